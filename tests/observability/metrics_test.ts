/**
 * Metrics of a real daemon on both backends: /metrics passes promtool, follows runners through launch,
 * heartbeats and exit, uses route patterns (never raw paths), keeps stored totals across a restart, and
 * /api/v1/metrics needs the admin token.
 */
import { assert, assertEquals, assertMatch, eventually } from "../helpers/assert.ts";
import { eachDaemon } from "../helpers/daemon.ts";
import { readDaemonInfo } from "../../lib/daemon_info.ts";
import { assertValidMetrics, families, labelValues, sample } from "./prom.ts";

async function scrape(url: string): Promise<string> {
  const res = await fetch(url);
  assertEquals(res.status, 200);
  assertMatch(res.headers.get("content-type") ?? "", /^text\/plain; version=0\.0\.4/);
  return await res.text();
}

eachDaemon("metrics: /metrics passes promtool and follows runners from launch to exit", async (t) => {
  const { daemon, client } = t;
  const info = readDaemonInfo(daemon.home)!;
  assertMatch(info.metricsUrl ?? "", /^http:\/\/127\.0\.0\.1:\d+\/metrics$/);
  assert(new URL(info.metricsUrl!).port !== new URL(daemon.url).port, "its own port");
  await daemon.waitForLog(/"msg":"metrics on http:\/\/127\.0\.0\.1:\d+\/metrics"/);
  const url = info.metricsUrl!;

  let text = await scrape(url);
  await assertValidMetrics(text);
  const types = families(text);
  for (
    const [name, type] of [
      ["stratavore_runners", "gauge"],
      ["stratavore_runners_by_project", "gauge"],
      ["stratavore_sessions_total", "counter"],
      ["stratavore_tokens_used_total", "counter"],
      ["stratavore_daemon_uptime_seconds", "gauge"],
      ["stratavore_heartbeat_latency_seconds", "histogram"],
      ["stratavore_outbox_pending", "gauge"],
      ["stratavore_outbox_dead", "gauge"],
      ["stratavore_outbox_publish_seconds", "histogram"],
      ["stratavore_http_request_duration_seconds", "histogram"],
      ["stratavore_notifications_sent_total", "counter"],
      ["process_resident_memory_bytes", "gauge"],
      ["process_cpu_seconds_total", "counter"],
    ]
  ) assertEquals(types.get(name), type, name);
  assertEquals(sample(text, "stratavore_database_up"), 1);
  assert(sample(text, "stratavore_daemon_uptime_seconds")! > 0);
  assertEquals(sample(text, "stratavore_runners", { status: "running" }), 0);

  await client.createProject({ name: "obs.web", path: "/tmp", maxRunners: 5 });
  const a = await client.launch({ project: "obs.web" });
  const b = await client.launch({ project: "obs.web" });
  text = await scrape(url);
  assertEquals(sample(text, "stratavore_runners", { status: "starting" }), 2);
  assertEquals(sample(text, "stratavore_runners_by_project", { project: "obs.web" }), 2);

  const agentA = client.withToken(a.token);
  const agentB = client.withToken(b.token);
  await agentA.started(a.runner.id, { pid: 11, host: "h", sessionId: "sess-a" });
  await agentB.started(b.runner.id, { pid: 12, host: "h" });
  const usage = (input: number) => [{
    sessionId: "sess-a",
    model: "claude-sonnet-4-5",
    input,
    output: 20,
    cacheCreation: 30,
    cacheRead: 40,
  }];
  for (let i = 1; i <= 5; i++) await agentA.heartbeat(a.runner.id, { cpuPercent: 1, usage: usage(100 * i) });
  await agentB.heartbeat(b.runner.id, {});
  text = await scrape(url);
  assertEquals(sample(text, "stratavore_runners", { status: "running" }), 2);
  assertEquals(sample(text, "stratavore_runners", { status: "starting" }), 0);
  assertEquals(sample(text, "stratavore_heartbeat_latency_seconds_count"), 6);
  assertEquals(sample(text, "stratavore_tokens_used_total", { scope: "global", kind: "input" }), 500);
  assertEquals(
    sample(text, "stratavore_tokens_used_total", { scope: "project", project: "obs.web", kind: "input" }),
    500,
  );
  assertEquals(sample(text, "stratavore_tokens_used_total", { scope: "global", kind: "cache_read" }), 40);
  assert(sample(text, "stratavore_token_cost_usd_total", { scope: "global" })! > 0, "cost is estimated");
  assertEquals(sample(text, "stratavore_sessions_total"), 1);
  assertEquals(
    sample(text, "stratavore_http_request_duration_seconds_count", {
      route: "/api/v1/runners/:id/heartbeat",
      method: "POST",
      status: "200",
    }),
    6,
  );

  await agentA.exited(a.runner.id, { exitCode: 0 });
  await agentB.exited(b.runner.id, { exitCode: 3 });
  await client.getRunner(424242).catch(() => {}); // a 404 on a route with a parameter
  await fetch(`${daemon.url}/no/such/path/123`).then((r) => r.body?.cancel());
  text = await eventually(
    async () => {
      const t = await scrape(url);
      return sample(t, "stratavore_events_published_total", { type: "runner.failed" }) === 1 &&
          sample(t, "stratavore_outbox_pending") === 0
        ? t
        : undefined;
    },
    10_000,
    "events published",
  );
  await assertValidMetrics(text);
  assertEquals(sample(text, "stratavore_runners", { status: "stopped" }), 1);
  assertEquals(sample(text, "stratavore_runners", { status: "failed" }), 1);
  assertEquals(sample(text, "stratavore_runners", { status: "running" }), 0);
  assertEquals(sample(text, "stratavore_runners_by_project", { project: "obs.web" }), 0);
  assertEquals(sample(text, "stratavore_events_published_total", { type: "runner.started" }), 2);
  assert(sample(text, "stratavore_outbox_publish_seconds_count")! >= 8, "publish latencies observed");
  assertEquals(sample(text, "stratavore_outbox_dead"), 0);
  // Route labels are patterns: no raw ids or unknown paths.
  const routes = labelValues(text, "stratavore_http_request_duration_seconds_count", "route");
  assert(routes.includes("/api/v1/runners/:id"), routes.join(" "));
  for (const r of routes) assert(!/\/\d+(\/|$)|no\/such/.test(r), `raw path in route label: ${r}`);

  // Stored totals come from the database: a restarted daemon reports the same.
  assertEquals(await daemon.stop(), 0);
  const again = await t.restart();
  const url2 = readDaemonInfo(again.home)!.metricsUrl!;
  text = await scrape(url2);
  assertEquals(sample(text, "stratavore_tokens_used_total", { scope: "global", kind: "input" }), 500);
  assertEquals(sample(text, "stratavore_sessions_total"), 1);
  assertEquals(sample(text, "stratavore_runners", { status: "failed" }), 1);
  assertEquals(sample(text, "stratavore_heartbeat_latency_seconds_count"), 0, "process histograms restart");
}, { inProcess: true, subprocesses: true });

eachDaemon("metrics: GET /api/v1/metrics answers only the admin token", async ({ daemon, client }) => {
  const get = (token?: string) =>
    fetch(`${daemon.url}/api/v1/metrics`, { headers: token ? { authorization: `Bearer ${token}` } : {} });
  let res = await get();
  assertEquals(res.status, 401);
  await res.body?.cancel();
  await client.createProject({ name: "tok", path: "/tmp" });
  const { token } = await client.launch({ project: "tok" });
  res = await get(token);
  assertEquals(res.status, 403);
  await res.body?.cancel();
  res = await get(daemon.token);
  assertEquals(res.status, 200);
  const text = await res.text();
  assertEquals(sample(text, "stratavore_runners", { status: "starting" }), 1);
  await assertValidMetrics(text);
}, { inProcess: true, subprocesses: true, only: "pglite" });
