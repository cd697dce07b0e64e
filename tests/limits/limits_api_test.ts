/**
 * The limits model through the API: reports from a runner's session (runner token) land on the account,
 * thresholds warn once per window, a refusing window marks the runner limited, bad input is a 4xx.
 */
import { assert, assertEquals, eventually } from "../helpers/assert.ts";
import { eachDaemon } from "../helpers/daemon.ts";
import { ApiError } from "../../lib/client.ts";
import { runStratavore } from "../helpers/cli.ts";
import type { LimitsReport } from "../../lib/schemas/limits.ts";

const account = { key: "config:/tmp/claude-a", kind: "config_dir" as const, label: "/tmp/claude-a" };

eachDaemon("limits: reports land per account; thresholds warn once; rejected marks the runner", async (t) => {
  await t.client.createProject({ name: "lim", path: t.claudeDir });
  const { runner, token } = await t.client.launch({ project: "lim" });
  const agent = t.client.withToken(token);
  const reset = Math.floor(Date.now() / 1000) + 3600;
  const report = (u: number, status?: string): LimitsReport => ({
    source: "statusline",
    account,
    sessionId: "s-1",
    windows: {
      five_hour: { utilization: u, resetsAt: reset, ...(status ? { status } : {}) },
      seven_day: { utilization: 0.3, resetsAt: reset + 86400 * 3 },
    },
  });
  await agent.reportLimits(runner.id, report(0.5));
  await agent.reportLimits(runner.id, report(0.82));
  await agent.reportLimits(runner.id, report(0.85));
  await agent.reportLimits(runner.id, report(0.96));
  await agent.reportLimits(runner.id, report(0.97));
  const limits = await t.client.limits();
  assertEquals(limits.thresholds, [80, 95]);
  assertEquals(limits.accounts.length, 1);
  const five = limits.accounts[0].windows.find((w) => w.window === "five_hour")!;
  assertEquals(five.percent, 97);
  assert(five.secondsToReset! > 3500 && five.secondsToReset! <= 3600);
  assertEquals(five.limited, false);

  const warnings = async () =>
    (await t.client.recentEvents({ types: "limits.warning", limit: 100 })).map((e) => e.payload.threshold);
  await eventually(async () => (await warnings()).length === 2, 10_000, "two warnings");
  assertEquals((await warnings()).sort(), [80, 95]);

  // The window refuses: limits.reached once, the runner limited until the reset.
  const r = await agent.reportLimits(runner.id, { ...report(1, "rejected"), source: "stream" });
  assertEquals(r.limitedUntil, new Date(reset * 1000).toISOString());
  await agent.reportLimits(runner.id, { ...report(1, "rejected"), source: "stream" });
  const got = await t.client.getRunner(runner.id);
  assertEquals(got.limitedUntil, new Date(reset * 1000).toISOString());
  assertEquals(got.limitedWindow, "five_hour");
  await eventually(
    async () => (await t.client.recentEvents({ types: "limits.reached,runner.limited" })).length === 2,
    10_000,
    "one limits.reached and one runner.limited",
  );
  const after = await t.client.limits();
  assertEquals(after.accounts[0].limitedUntil, new Date(reset * 1000).toISOString());
  const history = await t.client.limitHistory({ account: account.key, window: "five_hour" });
  assertEquals(history.samples.map((s) => s.utilization), [0.5, 0.82, 0.85, 0.96, 0.97, 1]);

  // The CLI's table and JSON.
  const cli = await runStratavore(["limits"], { env: t.env });
  assertEquals(cli.code, 0, cli.stderr);
  assert(/5-hour .*100%.*limited until \d\d:\d\d UTC/.test(cli.stdout), cli.stdout);
  assert(/weekly .* 30%/.test(cli.stdout), cli.stdout);
  const json = await runStratavore(["--json", "limits"], { env: t.env });
  assertEquals(JSON.parse(json.stdout).accounts[0].key, account.key);
}, { inProcess: true, subprocesses: true });

eachDaemon("limits: bad reports are 4xx, other runners' tokens are refused", async (t) => {
  await t.client.createProject({ name: "lim", path: t.claudeDir });
  const a = await t.client.launch({ project: "lim" });
  const b = await t.client.launch({ project: "lim" });
  const bad = [
    { source: "statusline", account, windows: { five_hour: { utilization: -1, resetsAt: null } } },
    { source: "nope", account, windows: {} },
    { source: "stream", account: { ...account, key: "x" }, windows: {} },
    { source: "stream", account, windows: { ten_hour: { utilization: 1, resetsAt: null } } },
  ];
  for (const body of bad) {
    const res = await fetch(`${t.daemon.url}/api/v1/runners/${a.runner.id}/limits`, {
      method: "POST",
      headers: { authorization: `Bearer ${a.token}`, "content-type": "application/json" },
      body: JSON.stringify(body),
    });
    assertEquals(res.status, 400, JSON.stringify(body));
    assertEquals((await res.json()).error.code, "invalid_body");
  }
  const err = await t.client.withToken(b.token).reportLimits(a.runner.id, {
    source: "stream",
    account,
    windows: {},
  }).catch((e) => e);
  assert(err instanceof ApiError && err.httpStatus === 403);
  const hist = await fetch(`${t.daemon.url}/api/v1/limits/history?account=x&window=daily`, {
    headers: { authorization: `Bearer ${t.daemon.token}` },
  });
  assertEquals(hist.status, 400);
  await hist.body?.cancel();
}, { inProcess: true });
