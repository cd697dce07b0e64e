/** The HTTP API against a real daemon (in the test process; the SIGTERM test in a subprocess), on both storage backends. */
import postgres from "postgres";
import { assert, assertEquals, assertMatch, assertRejects, eventually } from "../helpers/assert.ts";
import { eachDaemon } from "../helpers/daemon.ts";
import { ApiError, StratavoreClient } from "../../lib/client.ts";

async function launchRunning(client: StratavoreClient, project: string) {
  const { runner, token } = await client.launch({ project });
  const agent = client.withToken(token);
  await agent.started(runner.id, { pid: 4242, host: "test-host" });
  return { id: runner.id, agent, token };
}

async function apiError(p: Promise<unknown>): Promise<ApiError> {
  return await assertRejects(() => p, ApiError);
}

eachDaemon("api: 20 parallel launches against quota 3 admit exactly 3", async ({ client }) => {
  await client.createProject({ name: "race", path: "/tmp", maxRunners: 3 });
  const results = await Promise.allSettled(
    Array.from({ length: 20 }, () => client.launch({ project: "race" })),
  );
  const admitted = results.filter((r) => r.status === "fulfilled");
  const refused = results.filter((r): r is PromiseRejectedResult => r.status === "rejected");
  assertEquals(admitted.length, 3);
  for (const r of refused) {
    assert(r.reason instanceof ApiError, String(r.reason));
    assertEquals(r.reason.apiCode, "quota_exceeded");
    assertEquals(r.reason.httpStatus, 409);
    assertMatch(r.reason.message, /at its quota of 3 active runner/);
  }
  assertEquals((await client.listRunners({ project: "race" })).length, 3);
  assertEquals((await client.getProject("race")).activeRunners, 3);
}, { inProcess: true });

eachDaemon(
  "api: lifecycle transitions are checked and exit codes decide the final state",
  async ({ client }) => {
    await client.createProject({ name: "life", path: "/tmp", maxRunners: 10 });

    // starting → running → stopping (stop requested) → stopped, even though it exited by signal
    const a = await launchRunning(client, "life");
    assertEquals((await client.getRunner(a.id)).state, "running");
    assertEquals((await a.agent.heartbeat(a.id, { cpuPercent: 12.5, rssBytes: 1000 })).stopRequested, false);
    assertEquals((await client.stopRunner(a.id, "enough")).state, "stopping");
    assertEquals((await client.stopRunner(a.id)).state, "stopping", "stop is idempotent");
    const hb = await a.agent.heartbeat(a.id, {});
    assertEquals(hb.stopRequested, true);
    assertEquals(hb.state, "stopping");
    const stopped = await a.agent.exited(a.id, { exitCode: null, signal: "SIGTERM" });
    assertEquals(stopped.state, "stopped");
    assertEquals(stopped.exitSignal, "SIGTERM");
    assertEquals((await apiError(a.agent.heartbeat(a.id, {}))).apiCode, "runner_not_active");
    assertEquals((await apiError(client.stopRunner(a.id))).apiCode, "invalid_transition");
    assertEquals((await apiError(client.killRunner(a.id))).apiCode, "invalid_transition");
    assertEquals((await apiError(a.agent.started(a.id, { pid: 1, host: "h" }))).apiCode, "runner_not_active");

    // non-zero exit → failed, with the code as the reason
    const b = await launchRunning(client, "life");
    const failed = await b.agent.exited(b.id, { exitCode: 3 });
    assertEquals([failed.state, failed.exitCode, failed.reason], ["failed", 3, "exited with code 3"]);

    // zero exit → stopped
    const c = await launchRunning(client, "life");
    assertEquals((await c.agent.exited(c.id, { exitCode: 0 })).state, "stopped");

    // killed: the agent's later reports are refused or recorded without changing the verdict
    const d = await launchRunning(client, "life");
    assertEquals((await client.killRunner(d.id)).state, "killed");
    const hbErr = await apiError(d.agent.heartbeat(d.id, {}));
    assertEquals([hbErr.apiCode, (hbErr.details as { state: string }).state], [
      "runner_not_active",
      "killed",
    ]);
    const afterKill = await d.agent.exited(d.id, { exitCode: 137, signal: "SIGKILL" });
    assertEquals([afterKill.state, afterKill.exitCode], ["killed", 137]);

    // stop before the agent started: it starts into "stopping" and is told to stop
    const { runner: e, token } = await client.launch({ project: "life" });
    assertEquals((await client.stopRunner(e.id)).state, "stopping");
    const eAgent = client.withToken(token);
    assertEquals((await eAgent.started(e.id, { pid: 5, host: "h" })).state, "stopping");
    assertEquals((await eAgent.heartbeat(e.id, {})).stopRequested, true);

    const all = await client.listRunners({ project: "life", all: true });
    assertEquals(all.length, 5);
    assertEquals((await client.listRunners({ project: "life" })).map((r) => r.id), [e.id]);
    assertEquals((await client.listRunners({ state: "failed" })).map((r) => r.id), [b.id]);
    const status = await client.status();
    assertEquals(status.runners, { starting: 0, running: 0, stopping: 1, stopped: 2, failed: 1, killed: 1 });
  },
  { inProcess: true },
);

eachDaemon("api: heartbeats record the latest values", async ({ client }) => {
  await client.createProject({ name: "beat", path: "/tmp" });
  const r = await launchRunning(client, "beat");
  await r.agent.heartbeat(r.id, {
    pid: 77,
    cpuPercent: 3.5,
    rssBytes: 123456,
    sessionId: "11111111-2222-3333-4444-555555555555",
    tokens: { input: 10, output: 20, cacheCreation: 30, cacheRead: 40 },
  });
  await r.agent.heartbeat(r.id, { cpuPercent: null, rssBytes: null });
  const got = await client.getRunner(r.id);
  assertEquals(got.heartbeatCount, 2);
  assertEquals(got.pid, 77);
  assertEquals(got.cpuPercent, null, "unknown CPU stays unknown");
  assertEquals(got.sessionId, "11111111-2222-3333-4444-555555555555");
  assertEquals(got.tokens, { input: 10, output: 20, cacheCreation: 30, cacheRead: 40 });
  assert(got.lastHeartbeatAt !== null);
}, { inProcess: true });

eachDaemon(
  "api: a silent runner is failed by reconciliation, freeing its slot; its late heartbeat is refused",
  async ({ client }) => {
    await client.createProject({ name: "quiet", path: "/tmp", maxRunners: 1 });
    const r = await launchRunning(client, "quiet");
    await r.agent.heartbeat(r.id, {});
    assertEquals((await apiError(client.launch({ project: "quiet" }))).apiCode, "quota_exceeded");
    const failed = await eventually(
      async () => {
        const got = await client.getRunner(r.id);
        return got.state === "failed" ? got : undefined;
      },
      10_000,
      "runner marked failed",
    );
    assertMatch(failed.reason ?? "", /no heartbeat for over 1s/);
    const late = await apiError(r.agent.heartbeat(r.id, {}));
    assertEquals(late.apiCode, "runner_not_active");
    assertEquals(late.httpStatus, 409);
    assertMatch(late.message, /runner \d+ is failed \(no heartbeat/);
    const again = await client.launch({ project: "quiet" });
    assertEquals(again.runner.state, "starting");
  },
  { inProcess: true, env: { STRATAVORE_HEARTBEAT_TTL: "1s", STRATAVORE_RECONCILE_INTERVAL: "200ms" } },
);

eachDaemon(
  "api: projects can be created, read, changed and deleted (busy ones only with force)",
  async ({ client }) => {
    const created = await client.createProject({
      name: "proj.one_2",
      path: "/srv/one",
      description: "first",
    });
    assertEquals([created.maxRunners, created.command, created.activeRunners], [5, "claude", 0]);
    assertEquals(
      (await apiError(client.createProject({ name: "proj.one_2", path: "/x" }))).apiCode,
      "conflict",
    );
    const changed = await client.updateProject("proj.one_2", { maxRunners: 0, description: "second" });
    assertEquals([changed.maxRunners, changed.description, changed.path], [0, "second", "/srv/one"]);
    const zero = await apiError(client.launch({ project: "proj.one_2" }));
    assertMatch(zero.message, /accepts no new runners/);
    await client.updateProject("proj.one_2", { maxRunners: 2 });
    const r = await launchRunning(client, "proj.one_2");
    const busy = await apiError(client.deleteProject("proj.one_2"));
    assertEquals([busy.apiCode, busy.httpStatus], ["project_busy", 409]);
    const del = await client.deleteProject("proj.one_2", true);
    assertEquals(del.killedRunners, [r.id]);
    assertEquals((await apiError(client.getProject("proj.one_2"))).httpStatus, 404);
    assertEquals(await client.listProjects(), []);
  },
  { inProcess: true },
);

eachDaemon("api: health, readiness, status and unknown endpoints", async ({ daemon, client, backend }) => {
  const health = await fetch(`${daemon.url}/healthz`);
  assertEquals((await health.json()).ok, true);
  const ready = await fetch(`${daemon.url}/readyz`);
  assertEquals(await ready.json(), { ok: true, database: backend === "pglite" ? "embedded" : "postgres" });
  const status = await client.status();
  assertEquals(status.database.kind, backend === "pglite" ? "embedded" : "postgres");
  assertEquals(status.url, daemon.url);
  const missing = await fetch(`${daemon.url}/api/v1/nothing`, {
    headers: { authorization: `Bearer ${daemon.token}` },
  });
  assertEquals(missing.status, 404);
  assertEquals((await missing.json()).error.code, "not_found");
}, { inProcess: true });

eachDaemon(
  "api: restart on the same home keeps projects and runners",
  async ({ daemon, client, restart }) => {
    await client.createProject({ name: "keep", path: "/tmp" });
    const r = await launchRunning(client, "keep");
    assertEquals(await daemon.stop("SIGTERM"), 0);
    let info = true;
    try {
      await Deno.stat(`${daemon.home}/daemon.json`);
    } catch {
      info = false;
    }
    assertEquals(info, false, "daemon.json removed on shutdown");
    const second = await restart();
    const again = new StratavoreClient({ url: second.url, token: second.token });
    assertEquals((await again.listProjects()).map((p) => p.name), ["keep"]);
    const runner = await again.getRunner(r.id);
    assertEquals(runner.state, "running", "a daemon restart does not fail a live runner");
    const agent = again.withToken(r.token);
    assertEquals((await agent.heartbeat(r.id, {})).state, "running", "the agent's token still works");
  },
  { inProcess: true },
);

eachDaemon("api: the audit log records who changed what", async ({ client, daemon, databaseUrl }) => {
  await client.createProject({ name: "audited", path: "/tmp" });
  const r = await launchRunning(client, "audited");
  // Reports are not actions (their routes declare it): a heartbeat, a hook, a limits report, telemetry.
  await r.agent.heartbeat(r.id, {});
  await r.agent.claudeHook(r.id, { session_id: "s-audit", hook_event_name: "SessionStart" });
  const reset = Math.floor(Date.now() / 1000) + 3600;
  await r.agent.reportLimits(r.id, {
    source: "statusline",
    account: { key: "config:/tmp/claude-audit", kind: "config_dir", label: "/tmp/claude-audit" },
    windows: { five_hour: { utilization: 0.1, resetsAt: reset } },
  });
  const otlp = await fetch(`${daemon.url}/api/v1/otlp/v1/metrics`, {
    method: "POST",
    headers: { authorization: `Bearer ${r.token}`, "content-type": "application/json" },
    body: "{}",
  });
  assertEquals(otlp.status, 200, await otlp.text());
  await r.agent.exited(r.id, { exitCode: 0 });
  const sql = postgres(databaseUrl!, { max: 1, onnotice: () => {} });
  try {
    const rows = await sql`SELECT actor, action FROM audit_log ORDER BY id`;
    assertEquals(rows.map((x) => `${x.actor} ${x.action}`), [
      "admin POST /api/v1/projects",
      "admin POST /api/v1/runners",
      `runner:${r.id} POST /api/v1/runners/:id/started`,
      `runner:${r.id} POST /api/v1/runners/:id/exited`,
    ]);
  } finally {
    await sql.end();
  }
}, { inProcess: true, only: "postgres" });

eachDaemon(
  "api: heartbeats are HMAC-signed; tampered, stale and replayed ones are refused",
  async ({ daemon, client }) => {
    const { sign, signingKey, SIGNATURE_HEADER } = await import("../../lib/signature.ts");
    await client.createProject({ name: "sig", path: "/tmp" });
    const r = await launchRunning(client, "sig");
    const key = signingKey(r.token);
    const post = (body: string, header: string) =>
      fetch(`${daemon.url}/api/v1/runners/${r.id}/heartbeat`, {
        method: "POST",
        headers: {
          authorization: `Bearer ${r.token}`,
          "content-type": "application/json",
          [SIGNATURE_HEADER]: header,
        },
        body,
      }).then(async (res) => [res.status, (await res.json()).error?.message ?? "ok"]);
    const t = Date.now();
    const body = '{"cpuPercent":1}';
    assertEquals(await post(body, sign(key, t, body)), [200, "ok"]);
    assertEquals((await post(body, sign(key, t, body)))[0], 401, "the same signature again is a replay");
    assertMatch(String((await post(body, sign(key, t, body)))[1]), /replayed/);
    assertMatch(
      String((await post('{"cpuPercent":99}', sign(key, t + 1, body)))[1]),
      /does not match its body/,
    );
    assertMatch(String((await post(body, sign(key, t - 10 * 60_000, body)))[1]), /more than 5 minutes off/);
    assertMatch(String((await post(body, sign(signingKey("svr_other"), t + 2, body)))[1]), /does not match/);
    assertEquals((await client.getRunner(r.id)).heartbeatCount, 1, "only the good one counted");
  },
  { inProcess: true, only: "pglite" },
);

eachDaemon(
  "api: a request slower than the timeout gets 504 with a JSON error, changes nothing, and the daemon serves on",
  async ({ daemon, client }) => {
    // A client that starts a body and then stalls: the handler waits on it until the timeout abandons it.
    let stall: ReadableStreamDefaultController<Uint8Array> | undefined;
    const body = new ReadableStream<Uint8Array>({
      start(c) {
        stall = c;
        c.enqueue(new TextEncoder().encode('{"name":"slow","path":"/tmp"'));
      },
    });
    const started = Date.now();
    const res = await fetch(`${daemon.url}/api/v1/projects`, {
      method: "POST",
      headers: { authorization: `Bearer ${daemon.token}`, "content-type": "application/json" },
      body,
    });
    const answer = await res.json();
    const waited = Date.now() - started;
    stall?.close();
    assertEquals([res.status, answer.error.code], [504, "timeout"]);
    assertMatch(answer.error.message, /request took longer than 1s and was abandoned/);
    assert(waited >= 900 && waited < 10_000, `answered after ${waited} ms`);
    assertEquals((await client.listProjects()).map((p) => p.name), [], "nothing was created");
    assertEquals((await client.status()).version.length > 0, true, "the daemon serves on");
  },
  { inProcess: true, only: "pglite", env: { STRATAVORE_REQUEST_TIMEOUT: "1s" } },
);

eachDaemon(
  "api: on SIGTERM the daemon finishes the request in flight (new ones get 503) before it exits",
  async ({ daemon, client }) => {
    let feed: ReadableStreamDefaultController<Uint8Array> | undefined;
    const body = new ReadableStream<Uint8Array>({
      start(c) {
        feed = c;
        c.enqueue(new TextEncoder().encode('{"name":"inflight",'));
      },
    });
    const pending = fetch(`${daemon.url}/api/v1/projects`, {
      method: "POST",
      headers: { authorization: `Bearer ${daemon.token}`, "content-type": "application/json" },
      body,
    });
    pending.catch(() => {}); // awaited below; a failure must fail the test there, not as an uncaught error
    await new Promise((r) => setTimeout(r, 300)); // the request is being served
    const exit = daemon.stop("SIGTERM");
    await daemon.waitForLog(/shutting down/, 30_000); // shutdown has begun; the body is still coming
    const late = await fetch(`${daemon.url}/api/v1/status`, {
      headers: { authorization: `Bearer ${daemon.token}` },
    });
    assertEquals(
      [late.status, (await late.json()).error.code],
      [503, "shutting_down"],
      "new requests are turned away",
    );
    feed!.enqueue(new TextEncoder().encode('"path":"/tmp"}'));
    feed!.close();
    const res = await pending;
    const created = await res.json();
    assertEquals([res.status, created.name], [201, "inflight"]);
    assertEquals(await exit, 0, "a clean exit after the request");
    assert(client !== undefined);
  },
  { only: "pglite", keepHome: true },
);
