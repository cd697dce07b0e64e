/**
 * A session in the foreground (`stratavore agent`, `launch`, `resume`) runs in the process the user started,
 * after the whole CLI, as its child, checked the command line and registered the runner (main.ts,
 * agent/foreground.ts, lib/session_handoff.ts). What the process loads is tests/layout_test.ts's.
 */
import { assert, assertEquals, assertMatch, assertThrows, eventually } from "../helpers/assert.ts";
import { eachDaemon } from "../helpers/daemon.ts";
import { cmdlineOf, projectFolder, spawnAgent } from "../helpers/agent.ts";
import { handoffText, parseSessionHandoff, type SessionHandoff } from "../../lib/session_handoff.ts";

function childrenOf(pid: number): number[] {
  const out: number[] = [];
  for (const e of Deno.readDirSync("/proc")) {
    if (!/^\d+$/.test(e.name)) continue;
    try {
      const stat = Deno.readTextFileSync(`/proc/${e.name}/stat`);
      if (Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]) === pid) out.push(Number(e.name));
    } catch { /* ended meanwhile */ }
  }
  return out;
}

const handoffFiles = (dir: string) =>
  [...Deno.readDirSync(dir)].filter((e) => e.name.startsWith("stratavore-handoff-"));

eachDaemon(
  "foreground: the session's parent is the process the user started; the CLI child is gone, its handoff removed",
  async (t) => {
    const dir = await projectFolder(t.daemon.home, "fg");
    await t.client.createProject({ name: "fg", path: dir });
    const tmp = await Deno.makeTempDir({ prefix: "stratavore-fg-" });
    try {
      const a = spawnAgent(["agent", "--", "claude"], {
        env: { ...t.env, TMPDIR: tmp },
        cwd: dir,
        plan: { turns: [{}], hooks: [], sleepMs: 60_000 },
      });
      const runner = await eventually(
        async () => {
          const [r] = await t.client.listRunners({ project: "fg" });
          return r?.state === "running" && r.pid ? r : undefined;
        },
        20_000,
        "the runner running",
      );
      assertEquals(childrenOf(a.pid), [runner.pid], "the started process holds the session, and only it");
      assert(cmdlineOf(a.pid).includes("agent"), cmdlineOf(a.pid).join(" "));
      assertEquals(handoffFiles(tmp), [], "the handoff file is removed once read");
      await t.client.killRunner(runner.id);
      const r = await a.done;
      assert(r.code !== 0, `a killed session's exit code: ${r.code}`);
    } finally {
      await Deno.remove(tmp, { recursive: true });
    }
  },
  { only: "pglite" },
);

eachDaemon(
  "foreground: a command with no session to hand over answers as the CLI (its output, its exit code)",
  async (t) => {
    const tmp = await Deno.makeTempDir({ prefix: "stratavore-fg-" });
    try {
      const missing = await spawnAgent(["launch", "nope"], { env: { ...t.env, TMPDIR: tmp }, cwd: tmp }).done;
      assertEquals(missing.code, 1, missing.stderr);
      assertMatch(missing.stderr.trim(), /^stratavore: .*nope/);
      assertEquals(missing.stderr.trim().split("\n").length, 1, "one line");
      const help = await spawnAgent(["launch", "--help"], { env: { ...t.env, TMPDIR: tmp }, cwd: tmp }).done;
      assertEquals(help.code, 0);
      assertMatch(help.stdout, /Usage: stratavore launch/);
      const usage = await spawnAgent(["agent", "--bogus"], { env: { ...t.env, TMPDIR: tmp }, cwd: tmp }).done;
      assertEquals(usage.code, 2, usage.stderr);
      assertEquals(handoffFiles(tmp), [], "no handoff file left behind");
    } finally {
      await Deno.remove(tmp, { recursive: true });
    }
  },
  { only: "pglite" },
);

const HANDOFF: SessionHandoff = {
  url: "http://127.0.0.1:7777",
  runner: { id: 3, project: "api", cwd: "/tmp/api", worktree: null },
  mode: "interactive",
  settings: {
    home: "/tmp/home",
    heartbeatInterval: 10_000,
    scrollback: 1_000_000,
    sessionEnv: undefined,
    claudeTelemetry: true,
    telemetryInterval: 5000,
    worktrees: undefined,
  },
  command: ["claude", "--model", "opus"],
  token: "stv_r_secret",
  quiet: false,
  grace: 10_000,
  tokenTrusted: true,
};

Deno.test("session handoff: round trip, only the agent's settings travel, a broken one names its field", () => {
  const config = { ...HANDOFF.settings, adminToken: "do-not-pass", databaseUrl: "postgres://x" };
  const text = handoffText({ ...HANDOFF, settings: config });
  assert(!text.includes("do-not-pass") && !text.includes("postgres://"), text);
  assertEquals(parseSessionHandoff(text), JSON.parse(JSON.stringify(HANDOFF)));
  const broken = (patch: Record<string, unknown>) => JSON.stringify({ ...JSON.parse(text), ...patch });
  for (
    const [patch, what] of [
      [{ command: [] }, "no command line"],
      [{ token: "" }, "no runner token"],
      [{ mode: "detached" }, 'mode "detached"'],
      [{ log: "/tmp/x.jsonl" }, "a log file for an interactive session"],
      [{ grace: -1 }, "no stop grace"],
      [{ heartbeatMs: 0 }, "heartbeat interval"],
    ] as const
  ) assertThrows(() => parseSessionHandoff(broken(patch)), Error, what);
  assertThrows(() => parseSessionHandoff("{"), Error, "is not JSON");
});
