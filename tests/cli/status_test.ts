/** `stratavore status`, the daemon-down message and exit 3, and colours on a real terminal. */
import { assert, assertEquals, assertMatch, assertStringIncludes } from "../helpers/assert.ts";
import { baseEnv, runStratavore } from "../helpers/cli.ts";
import { eachDaemon, freePort } from "../helpers/daemon.ts";
import { MAIN } from "../helpers/env.ts";
import { VERSION } from "../../lib/version.ts";
import { assertGolden, cliFor, normalise, QUIET_DAEMON, seed } from "./helpers.ts";

const STATUS_FIELDS = [
  "broker",
  "daemonId",
  "database",
  "home",
  "limits",
  "projects",
  "runners",
  "startedAt",
  "uptimeSeconds",
  "url",
  "version",
];

eachDaemon("cli status: version, uptime, address, storage, runner counts; --json", async (t) => {
  const cli = cliFor(t);
  await seed(t.client);
  const r = await cli(["status"]);
  assertEquals(r.code, 0, r.stderr);
  const text = normalise(r.stdout, t).replace(/^uptime: +\S+/m, "uptime:   <uptime>")
    .replace(`version ${VERSION}`, "version <version>");
  if (t.backend === "pglite") await assertGolden("status.txt", text);
  else assertMatch(text, /^database: PostgreSQL, postgres:\/\/\S+$/m);
  assertMatch(text, /^runners: +1 starting, 2 running, 1 stopping; 0 stopped, 0 failed, 1 killed$/m);

  const json = JSON.parse((await cli(["status", "--json"])).stdout);
  assertEquals(Object.keys(json).sort(), STATUS_FIELDS);
  assertEquals(json.url, t.daemon.url);
  assertEquals(json.projects, 3);
  assertEquals(json.runners, { starting: 1, running: 2, stopping: 1, stopped: 0, failed: 0, killed: 1 });
}, { inProcess: true, subprocesses: true, ...QUIET_DAEMON });

const DOWN = (url: string) => `stratavore daemon is not running at ${url}: start it with "stratavore daemon"`;
const lastLine = (text: string) => text.trimEnd().split("\n").at(-1);

Deno.test("cli status: a daemon that is not running is exit 3 with one clear line", async () => {
  const home = await Deno.makeTempDir();
  try {
    const url = `http://127.0.0.1:${freePort()}`;
    const token = "sv_test_token_that_is_long_enough";
    for (
      const args of [["status"], ["runners"], ["projects", "--json"], ["stop", "1"], ["project", "show", "x"]]
    ) {
      const r = await runStratavore(["--url", url, "--token", token, ...args], {
        env: { STRATAVORE_HOME: home },
      });
      assertEquals(r.code, 3, `${args.join(" ")}: ${r.stderr}`);
      assertEquals(lastLine(r.stderr), DOWN(url), args.join(" "));
      assertEquals(r.stdout, "");
    }
    // No token either (the daemon never ran here): still "start it", not "no token".
    const fresh = await runStratavore(["status"], { env: { STRATAVORE_HOME: home, STRATAVORE_URL: url } });
    assertEquals(fresh.code, 3, fresh.stderr);
    assertEquals(fresh.stderr, DOWN(url) + "\n");
  } finally {
    await Deno.remove(home, { recursive: true });
  }
});

eachDaemon("cli status: a daemon that died leaves daemon.json behind: still exit 3", async (t) => {
  await t.daemon.stop("SIGKILL");
  const r = await runStratavore(["status"], { env: t.env });
  assertEquals(r.code, 3, r.stderr);
  assertEquals(r.stderr, DOWN(t.daemon.url) + "\n");
}, { only: "pglite" });

eachDaemon("cli: usage errors exit 2 with commander's message and the help hint", async (t) => {
  const cli = cliFor(t);
  for (const args of [["status", "extra"], ["runners", "--bogus"], ["completions", "tcsh"], ["runner"]]) {
    const r = await cli(args);
    assertEquals(r.code, 2, `${args.join(" ")}: ${r.stderr}`);
    assertStringIncludes(r.stderr, '(run "stratavore --help" for usage)');
  }
}, { inProcess: true, subprocesses: true, only: "pglite" });

const HAS_SCRIPT = Deno.build.os === "linux" &&
  await new Deno.Command("script", { args: ["--version"], stdout: "null", stderr: "null" }).output()
    .then((o) => o.success, () => false);

/** Runs the CLI with a pseudo-terminal as stdout (util-linux `script`), so colours are on. */
async function inTerminal(args: string[], extra: Record<string, string>): Promise<string> {
  const env = baseEnv({ ...extra, COLUMNS: "120" });
  if (!extra.NO_COLOR) delete env.NO_COLOR;
  const line = [Deno.execPath(), "run", "-A", "--quiet", MAIN, ...args].map((a) => `'${a}'`).join(" ");
  const out = await new Deno.Command("script", {
    args: ["-qec", line, "/dev/null"],
    env,
    clearEnv: true,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).output();
  return new TextDecoder().decode(out.stdout);
}

eachDaemon("cli: state colours on a terminal, none with --no-color or NO_COLOR", async (t) => {
  await seed(t.client);
  const env = t.env;
  const table = await inTerminal(["runners", "--all"], env);
  // A session waiting for its user stands out from the running ones.
  assertStringIncludes(table, "\x1b[33mrunning (waiting for input)\x1b[0m");
  assertStringIncludes(table, "\x1b[32mrunning (busy)\x1b[0m");
  assertStringIncludes(table, "\x1b[33mstarting\x1b[0m");
  assertStringIncludes(table, "\x1b[33mstopping\x1b[0m");
  assertStringIncludes(table, "\x1b[35mkilled\x1b[0m");
  assertStringIncludes(table, "\x1b[1mID\x1b[0m", "bold headers");
  assertStringIncludes(await inTerminal(["status"], env), "\x1b[35m1 killed\x1b[0m");
  assert(!(await inTerminal(["runners", "--no-color"], env)).includes("\x1b["), "--no-color");
  assert(!(await inTerminal(["runners"], { ...env, NO_COLOR: "1" })).includes("\x1b["), "NO_COLOR");
}, { inProcess: true, subprocesses: true, only: "pglite", ignore: !HAS_SCRIPT, ...QUIET_DAEMON });
