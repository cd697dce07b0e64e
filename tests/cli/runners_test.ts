/** `stratavore runners` and `stratavore runner <id>` against a live daemon. */
import { assert, assertEquals, assertMatch, assertStringIncludes } from "../helpers/assert.ts";
import { eachDaemon } from "../helpers/daemon.ts";
import { assertGolden, cliFor, fixedClock, normalise, QUIET_DAEMON, seed } from "./helpers.ts";
import { RUNNER_STATES } from "../../lib/schemas/runner.ts";

/** Every field of a runner in --json, as documented in docs/cli.md (the API's shape). */
const RUNNER_FIELDS = [
  "activity",
  "activityAt",
  "activityDetail",
  "args",
  "command",
  "cpuPercent",
  "createdAt",
  "cwd",
  "endedAt",
  "exitCode",
  "exitSignal",
  "heartbeatCount",
  "host",
  "id",
  "labels",
  "lastHeartbeatAt",
  "logPath",
  "mode",
  "pid",
  "project",
  "projectId",
  "prompt",
  "reason",
  "rssBytes",
  "sessionId",
  "startedAt",
  "state",
  "stopRequested",
  "tokens",
  "cost",
  "telemetry",
  "telemetryEndpoint",
  "pendingPermission",
  "limitedUntil",
  "limitedWindow",
  "autoContinue",
  "resumedFrom",
  "worktree",
].sort();
/** `runner <id>` also says how its Claude Code API calls went. */
const RUNNER_DETAIL_FIELDS = [...RUNNER_FIELDS, "apiCalls"].sort();

eachDaemon("cli runners: tables at 100 and 60 columns drop the least important columns", async (t) => {
  const cli = cliFor(t);
  await seed(t.client);
  const env = { STRATAVORE_CLI_NOW: await fixedClock(t.client) };

  const wide = await cli(["runners"], { env: { ...env, COLUMNS: "100" } });
  assertEquals(wide.code, 0, wide.stderr);
  await assertGolden("runners_100.txt", wide.stdout);

  const narrow = await cli(["runners", "--all"], { env: { ...env, COLUMNS: "60" } });
  assertEquals(narrow.code, 0, narrow.stderr);
  await assertGolden("runners_all_60.txt", narrow.stdout);
  assert(narrow.stdout.split("\n").every((l) => l.length <= 60), "no line is wider than 60 columns");
  assert(!narrow.stdout.includes("PID"), "PID is the first column to go");

  // Off a terminal without COLUMNS nothing is cut, whatever the width.
  const uncut = await cli(["runners", "--all"], { env });
  assertEquals(uncut.code, 0, uncut.stderr);
  assertStringIncludes(uncut.stdout, "HEARTBEAT");
  assertStringIncludes(uncut.stdout, "running (waiting for input)");
}, { inProcess: true, subprocesses: true, only: "pglite", ...QUIET_DAEMON });

eachDaemon("cli runners: filters, -q and --json with the API's field names", async (t) => {
  const cli = cliFor(t);
  await seed(t.client);

  const json = await cli(["runners", "--json"]);
  assertEquals(json.code, 0, json.stderr);
  const { runners } = JSON.parse(json.stdout);
  assertEquals(runners.map((r: { id: number }) => r.id), [4, 3, 2, 1], "active only, newest first");
  for (const r of runners) assertEquals(Object.keys(r).sort(), RUNNER_FIELDS);
  const r1 = runners.find((r: { id: number }) => r.id === 1);
  assertEquals(r1.tokens, { input: 1200, output: 3400, cacheCreation: 5000, cacheRead: 113_822 });
  assertEquals(r1.activity, "waiting_for_input");
  assertEquals(r1.pid, 4242);

  const all = JSON.parse((await cli(["--json", "runners", "--all"])).stdout).runners;
  assertEquals(all.length, 5, "--json works before the command too");

  assertEquals((await cli(["runners", "-q", "--project", "web"])).stdout, "4\n3\n");
  assertEquals((await cli(["runners", "-q", "--state", "killed"])).stdout, "5\n");
  assertEquals((await cli(["runners", "-q", "--all", "--project", "api"])).stdout, "2\n1\n");

  const none = await cli(["runners", "--project", "data-pipeline"]);
  assertEquals(none.code, 0);
  assertEquals(none.stdout, "");
  assertMatch(none.stderr, /no active runners in project data-pipeline \("stratavore runners --all"/);

  const typo = await cli(["runners", "--project", "ap1"]);
  assertEquals(typo.code, 1, "an unknown project is reported, not shown as empty");
  assertMatch(typo.stderr, /no project named "ap1"/);

  const badState = await cli(["runners", "--state", "asleep"]);
  assertEquals(badState.code, 2);
  assertMatch(badState.stderr, /argument 'asleep' is invalid/);
}, { inProcess: true, subprocesses: true, only: "pglite", ...QUIET_DAEMON });

eachDaemon("cli runner <id>: every detail as key: value lines, and --json", async (t) => {
  const cli = cliFor(t);
  await seed(t.client);
  const env = { STRATAVORE_CLI_NOW: await fixedClock(t.client) };

  const one = await cli(["runner", "1"], { env });
  assertEquals(one.code, 0, one.stderr);
  await assertGolden("runner_1.txt", normalise(one.stdout, t));

  const killed = await cli(["runner", "5"], { env });
  assertEquals(killed.code, 0, killed.stderr);
  await assertGolden("runner_5.txt", normalise(killed.stdout, t));

  const json = await cli(["runner", "2", "--json"]);
  const r2 = JSON.parse(json.stdout);
  assertEquals(Object.keys(r2).sort(), RUNNER_DETAIL_FIELDS);
  assertEquals(r2.state, "running");
  assertEquals(r2.activity, "busy");
  assertEquals(r2.rssBytes, 1.5 * 1024 ** 3);

  const missing = await cli(["runner", "99"]);
  assertEquals(missing.code, 1);
  assertEquals(missing.stderr, 'stratavore: no runner 99: list them with "stratavore runners --all"\n');

  const bad = await cli(["runner", "abc"]);
  assertEquals(bad.code, 2);
  assertMatch(bad.stderr, /"abc" is not a runner id/);
}, { inProcess: true, subprocesses: true, only: "pglite", ...QUIET_DAEMON });

eachDaemon("cli runners: the same listing on both storage backends", async (t) => {
  const cli = cliFor(t);
  await seed(t.client);
  const env = { STRATAVORE_CLI_NOW: await fixedClock(t.client), COLUMNS: "100" };
  const r = await cli(["runners"], { env });
  assertEquals(r.code, 0, r.stderr);
  await assertGolden("runners_100.txt", r.stdout);
  const states = JSON.parse((await cli(["runners", "--all", "--json"])).stdout).runners
    .map((x: { state: string }) => x.state);
  assertEquals(states, ["killed", "stopping", "starting", "running", "running"]);
  assert(states.every((s: string) => (RUNNER_STATES as readonly string[]).includes(s)));
}, { inProcess: true, subprocesses: true, ...QUIET_DAEMON });
