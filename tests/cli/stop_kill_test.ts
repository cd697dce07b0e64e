/** `stratavore stop` and `stratavore kill`: several ids, per-id results, --all with confirmation. */
import type { StratavoreClient } from "../../lib/client.ts";
import { assert, assertEquals, assertMatch } from "../helpers/assert.ts";
import { eachDaemon } from "../helpers/daemon.ts";
import { MAIN } from "../helpers/env.ts";
import { startTmux } from "../helpers/tmux.ts";
import { cliFor, QUIET_DAEMON } from "./helpers.ts";

async function runningRunner(client: StratavoreClient, project: string, pid: number): Promise<number> {
  const { runner, token } = await client.launch({ project });
  await client.withToken(token).started(runner.id, { pid, host: "test-host" });
  return runner.id;
}

async function states(client: StratavoreClient, project?: string): Promise<Record<number, string>> {
  const all = await client.listRunners({ project, all: true });
  return Object.fromEntries(all.map((r) => [r.id, r.state]));
}

const HAS_TMUX = await new Deno.Command("tmux", { args: ["-V"], stdout: "null", stderr: "null" }).output()
  .then((o) => o.success, () => false);

eachDaemon("cli stop/kill: each id reports its own result; exit 1 when any failed", async (t) => {
  const cli = cliFor(t);
  await t.client.createProject({ name: "api", path: "/srv/api", maxRunners: 10 });
  const a = await runningRunner(t.client, "api", 101);
  const b = await runningRunner(t.client, "api", 102);
  const c = await runningRunner(t.client, "api", 103);
  await t.client.killRunner(c);

  const stop = await cli(["stop", String(a), "99", String(c), String(b)]);
  assertEquals(stop.code, 1, stop.stderr);
  assertEquals(
    stop.stdout,
    `runner ${a}: stopping (its agent stops the session gracefully)\n` +
      `runner ${b}: stopping (its agent stops the session gracefully)\n`,
  );
  assertEquals(
    stop.stderr,
    `stratavore: no runner 99: list them with "stratavore runners --all"\n` +
      `stratavore: runner ${c} has already ended (killed)\n`,
  );
  assertEquals(await states(t.client), { [a]: "stopping", [b]: "stopping", [c]: "killed" });

  const again = await cli(["stop", String(a)]);
  assertEquals(again.code, 0, "stopping a stopping runner is fine (idempotent)");

  const kill = await cli(["kill", String(a), String(b), "--reason", "enough", "--json"]);
  assertEquals(kill.code, 0, kill.stderr);
  const { results } = JSON.parse(kill.stdout);
  assertEquals(results.map((r: { id: number; ok: boolean }) => [r.id, r.ok]), [[a, true], [b, true]]);
  assertEquals(results[0].runner.state, "killed");
  assertEquals(results[0].runner.reason, "enough");

  const failed = JSON.parse((await cli(["kill", String(a), "--json"])).stdout).results[0];
  assertEquals(failed, {
    id: a,
    ok: false,
    error: { code: "invalid_transition", message: `runner ${a} has already ended (killed)` },
  });
}, { inProcess: true, subprocesses: true, only: "pglite", ...QUIET_DAEMON });

eachDaemon("cli stop/kill: usage errors exit 2 and change nothing", async (t) => {
  const cli = cliFor(t);
  await t.client.createProject({ name: "api", path: "/srv/api" });
  const a = await runningRunner(t.client, "api", 101);
  const cases: [string[], RegExp][] = [
    [["kill"], /name the runners to kill: stratavore kill <id>… \(or --all --project P\)/],
    [["stop", String(a), "x1"], /"x1" is not a runner id/],
    [["kill", "--all"], /kill --all needs --project P \(or --all-projects/],
    [["kill", "--all", String(a), "--project", "api"], /give runner ids or --all, not both/],
    [["kill", "--all", "--project", "api", "--all-projects"], /--project P or --all-projects, not both/],
    [["kill", String(a), "--project", "api"], /--project and --all-projects go with --all/],
    [["stop", "--frobnicate"], /unknown option '--frobnicate'/],
  ];
  for (const [args, re] of cases) {
    const r = await cli(args);
    assertEquals(r.code, 2, `${args.join(" ")}: ${r.stderr}`);
    assertMatch(r.stderr, re);
  }
  assertEquals(await states(t.client), { [a]: "running" });
}, { inProcess: true, subprocesses: true, only: "pglite", ...QUIET_DAEMON });

eachDaemon("cli kill --all --project: refuses without a terminal unless --yes", async (t) => {
  const cli = cliFor(t);
  await t.client.createProject({ name: "api", path: "/srv/api" });
  await t.client.createProject({ name: "web", path: "/srv/web" });
  const a1 = await runningRunner(t.client, "api", 101);
  const a2 = await runningRunner(t.client, "api", 102);
  const w = await runningRunner(t.client, "web", 201);

  // stdin is not a terminal (here /dev/null, then a pipe): no guessing.
  for (const stdin of [undefined, "y\n"]) {
    const refused = await cli(["kill", "--all", "--project", "api"], { stdin });
    assertEquals(refused.code, 2, refused.stderr);
    assertEquals(
      refused.stderr,
      "stratavore: refusing to kill 2 active runners of project api without confirmation " +
        "(stdin is not a terminal): add --yes\n",
    );
  }
  assertEquals(await states(t.client), { [a1]: "running", [a2]: "running", [w]: "running" });

  const killed = await cli(["kill", "--all", "--project", "api", "--yes"]);
  assertEquals(killed.code, 0, killed.stderr);
  assertMatch(killed.stdout, new RegExp(`^runner ${a2}: killed .*\nrunner ${a1}: killed `));
  assertEquals(await states(t.client), { [a1]: "killed", [a2]: "killed", [w]: "running" });

  const nothing = await cli(["kill", "--all", "--project", "api"]);
  assertEquals([nothing.code, nothing.stdout], [0, "no active runners in project api: nothing to kill\n"]);
  const typo = await cli(["kill", "--all", "--project", "apj", "--yes"]);
  assertEquals(typo.code, 1);
  assertMatch(typo.stderr, /no project named "apj"/);

  const stopAll = await cli(["stop", "--all", "--all-projects", "-y", "--json"]);
  assertEquals(stopAll.code, 0, stopAll.stderr);
  assertEquals(JSON.parse(stopAll.stdout).results.map((r: { id: number }) => r.id), [w]);
  assertEquals((await states(t.client))[w], "stopping");
}, { inProcess: true, subprocesses: true, only: "pglite", ...QUIET_DAEMON });

eachDaemon("cli kill --all --project: asks on a terminal; only y goes ahead", async (t) => {
  await t.client.createProject({ name: "api", path: "/srv/api" });
  const a = await runningRunner(t.client, "api", 101);
  const b = await runningRunner(t.client, "api", 102);
  for (const [answer, code, state] of [["n", "1", "running"], ["y", "0", "killed"]]) {
    const tmux = await startTmux(
      `'${Deno.execPath()}' run -A --quiet '${MAIN}' kill --all --project api; echo "exit=$?"; sleep 30`,
      { env: { ...t.env, NO_COLOR: "1" } },
    );
    try {
      const prompt = await tmux.waitFor(/\[y\/N\]/);
      assertMatch(prompt, new RegExp(`Kill 2 active runners of project api \\(${b}, ${a}\\)\\? \\[y/N\\]`));
      await tmux.send(answer, "Enter");
      const screen = await tmux.waitFor(/exit=\d+/);
      assertEquals(/exit=(\d+)/.exec(screen)?.[1], code, screen);
      if (answer === "n") assertMatch(screen, /nothing was killed/);
      assertEquals(await states(t.client), { [a]: state, [b]: state });
    } finally {
      await tmux.kill();
    }
  }
}, { inProcess: true, subprocesses: true, only: "pglite", ignore: !HAS_TMUX, ...QUIET_DAEMON });

eachDaemon("cli stop/kill: the same on both storage backends", async (t) => {
  const cli = cliFor(t);
  await t.client.createProject({ name: "api", path: "/srv/api" });
  const a = await runningRunner(t.client, "api", 101);
  const r = await cli(["kill", String(a)]);
  assertEquals([r.code, r.stderr], [0, ""]);
  assert(r.stdout.startsWith(`runner ${a}: killed`), r.stdout);
  assertEquals((await cli(["kill", String(a)])).code, 1);
}, { inProcess: true, subprocesses: true, ...QUIET_DAEMON });
