/**
 * $STRATAVORE_HOME is private: under the usual umask 022 a fresh home, its database (PGlite writes 0666),
 * transcripts, terminal logs and the daemon log were readable (and the database writable) by other users.
 * Everything the daemon and agent write is 0700/0600, and looser modes are tightened at start with a warning.
 */
import { FAST_TIER } from "../helpers/env.ts";
import process from "node:process";
import { assert, assertEquals, eventually } from "../helpers/assert.ts";
import { eachDaemon, startDaemon } from "../helpers/daemon.ts";
import { projectFolder } from "../helpers/agent.ts";
import { runStratavore } from "../helpers/cli.ts";
import { removeDir, tempDir } from "../helpers/fs.ts";

const POSIX = Deno.build.os !== "windows";
// What a user's shell usually has; the daemon and agents started here inherit it.
if (POSIX) process.umask(0o022);

/** Every path under root (not following links) whose mode gives group or others anything. */
async function loose(root: string, skip: (path: string) => boolean = () => false): Promise<string[]> {
  const out: string[] = [];
  const visit = async (path: string) => {
    if (skip(path)) return;
    const info = await Deno.lstat(path);
    if (info.isSymlink) return;
    if ((info.mode! & 0o077) !== 0) out.push(`${(info.mode! & 0o777).toString(8)} ${path}`);
    if (info.isDirectory) { for await (const e of Deno.readDir(path)) await visit(`${path}/${e.name}`); }
  };
  await visit(root);
  return out;
}

Deno.test({
  name: "home: a fresh home and its PGlite database are private under umask 022",
  ignore: !POSIX || FAST_TIER,
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    const tmp = await tempDir();
    const home = `${tmp}/new/home`;
    const logFile = `${tmp}/daemon.log`;
    const daemon = await startDaemon({ home, seed: false, env: { STRATAVORE_LOG_FILE: logFile } });
    try {
      const headers = { authorization: `Bearer ${daemon.token}`, "content-type": "application/json" };
      const res = await fetch(`${daemon.url}/api/v1/projects`, {
        method: "POST",
        headers,
        body: JSON.stringify({ name: "p", path: "/tmp" }),
      });
      assertEquals(res.status, 201, await res.text());
      assertEquals((await Deno.stat(home)).mode! & 0o777, 0o700);
      // PGlite creates its files 0666 whatever the umask: while it runs they sit behind 0700 folders.
      const data = `${home}/data/`;
      assertEquals((await loose(home)).filter((l) => !l.includes(data) || !/^666 /.test(l)), []);
      assertEquals((await Deno.stat(logFile)).mode! & 0o777, 0o600);
      assert(!daemon.logs().some((l) => /readable or writable by other users/.test(l)), "nothing to repair");
      assertEquals(await daemon.stop(), 0);
      assertEquals(await loose(home), [], "everything private once the daemon has stopped");
    } finally {
      await daemon.stop();
      await removeDir(tmp);
    }
  },
});

eachDaemon("home: looser modes are tightened at start with a warning; runs' files are private", async (t) => {
  // The test home was made under umask 022 (and PGlite copied into it): the daemon found it loose.
  if (t.backend === "pglite") {
    await t.daemon.waitForLog(/readable or writable by other users/);
  }
  const dir = await projectFolder(t.daemon.home, "bg");
  await t.client.createProject({ name: "bg", path: dir });
  await Deno.writeTextFile(t.planFile, JSON.stringify({ turns: [{ text: "done" }], hooks: [] }));
  const launched = await runStratavore(["--json", "launch", "bg", "--detach", "--prompt", "go"], {
    env: t.env,
    cwd: dir,
  });
  assertEquals(launched.code, 0, launched.stderr);
  const runner = JSON.parse(launched.stdout);
  await eventually(async () => (await t.client.getRunner(runner.id)).state === "stopped", 30_000, "stopped");
  // The agent removes the run's folder after it reports the end: walk the home once it is done.
  await eventually(
    async () => !(await Deno.stat(`${t.daemon.home}/runs/${runner.id}`).then(() => true, () => false)),
    30_000,
    "the agent to finish",
  );
  // The session's own files (its transcripts in CLAUDE_CONFIG_DIR, the project folder) keep the user's
  // umask; everything stratavore wrote is private.
  const userFiles = (p: string) => p.startsWith(t.claudeDir) || p.startsWith(`${t.daemon.home}/work`);
  // (PGlite's own 0666 files behind 0700 folders: see the fresh-home test.)
  const pglite = (l: string) => l.startsWith("666 ") && l.includes(`${t.daemon.home}/data/`);
  assertEquals((await loose(t.daemon.home, userFiles)).filter((l) => !pglite(l)), []);
  const logs = [...Deno.readDirSync(`${t.daemon.home}/logs`)].map((e) => e.name);
  assert(logs.includes(`${runner.id}.jsonl`) && logs.includes(`${runner.id}.agent.log`), logs.join(","));
  const sessionFiles = await loose(t.claudeDir);
  assert(sessionFiles.length > 0, "the session ran with the user's umask 022");
}, { ignore: !POSIX });
