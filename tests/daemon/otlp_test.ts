/**
 * The OTLP/HTTP receiver through a real daemon: a runner's token books Claude Code's figures for that
 * runner only (and its project's budget); repeats count once; malformed, oversized, protobuf or wrongly authorised exports get a 4xx
 * JSON error, never a 5xx.
 */
import { assert, assertEquals } from "../helpers/assert.ts";
import { eachDaemon } from "../helpers/daemon.ts";
import { REPO } from "../helpers/env.ts";

const metrics = JSON.parse(await Deno.readTextFile(`${REPO}/tests/fixtures/otlp/metrics.json`));
const logs = JSON.parse(await Deno.readTextFile(`${REPO}/tests/fixtures/otlp/logs.json`));

/** The fixture, re-attributed to a runner (its resource names runner 42). */
function forRunner(body: Record<string, unknown>, id: number | string): string {
  return JSON.stringify(body).replaceAll(
    '"key":"stratavore.runner.id","value":{"stringValue":"42"}',
    `"key":"stratavore.runner.id","value":{"stringValue":"${id}"}`,
  );
}

async function gzip(text: string): Promise<Uint8Array<ArrayBuffer>> {
  const stream = new Blob([text]).stream().pipeThrough(new CompressionStream("gzip"));
  return new Uint8Array(await new Response(stream).arrayBuffer());
}

eachDaemon(
  "otlp: a runner's telemetry books Claude Code's cost for it, once; bad exports get 4xx",
  async (t) => {
    await t.client.createProject({ name: "tel", path: "/tmp" });
    await t.client.setBudget("project", "tel", { costUsd: 100, period: "month" });
    const { runner, token } = await t.client.launch({ project: "tel" });
    const { runner: other } = await t.client.launch({ project: "tel" });
    const post = (path: string, body: BodyInit, headers: Record<string, string> = {}, auth = token) =>
      fetch(`${t.daemon.url}/api/v1/otlp/v1/${path}`, {
        method: "POST",
        headers: { "content-type": "application/json", authorization: `Bearer ${auth}`, ...headers },
        body,
      });

    const ok = await post("metrics", forRunner(metrics, runner.id));
    assertEquals([ok.status, await ok.json()], [200, {}]);
    const again = await post("metrics", forRunner(metrics, runner.id));
    assertEquals(again.status, 200);
    await again.body?.cancel();
    const r = await t.client.getRunner(runner.id);
    assertEquals([r.cost.usd, r.cost.reportedUsd, r.cost.source], [0.00561, 0.00561, "claude-code"]);
    // The reported cost counts against the project's budget, once.
    const spent = (await t.client.getBudget("project", "tel")).usage.costUsd;
    assert(Math.abs(spent - 0.00561) < 1e-9, `the budget counted ${spent}`);
    const l = await post("logs", forRunner(logs, runner.id), { "content-encoding": "gzip" });
    assertEquals(l.status, 400, "declared gzip that is not gzip");
    await l.body?.cancel();
    const lz = await post("logs", await gzip(forRunner(logs, runner.id)), { "content-encoding": "gzip" });
    assertEquals(lz.status, 200);
    await lz.body?.cancel();
    await (await post("logs", forRunner(logs, runner.id))).body?.cancel();
    const detail = await t.client.getRunner(runner.id);
    assertEquals(detail.apiCalls?.requests, 2, "two API requests, exported twice, stored once");
    assert(Math.abs(detail.apiCalls!.costUsd - 0.00561) < 1e-9, "their cost adds up to the counter's");

    // A runner's token cannot report for another runner.
    const foreign = await post("metrics", forRunner(metrics, other.id));
    const body = await foreign.json();
    assertEquals(foreign.status, 200);
    assertEquals(body.partialSuccess.rejectedDataPoints, "7");
    assertEquals((await t.client.getRunner(other.id)).cost.source, "none");

    const expect4xx = async (res: Promise<Response>, status: number, code: string) => {
      const got = await res;
      const text = await got.text();
      assertEquals(got.status, status, text);
      assertEquals(JSON.parse(text).error.code, code, text);
    };
    await expect4xx(post("metrics", "{not json"), 400, "invalid_json");
    await expect4xx(
      post("metrics", "{}", { "content-type": "application/x-protobuf" }),
      415,
      "unsupported_media_type",
    );
    await expect4xx(post("metrics", "{}", {}, t.daemon.token), 403, "forbidden");
    await expect4xx(post("metrics", "{}", {}, "svr_nope"), 401, "unauthorized");
    await expect4xx(post("metrics", "x".repeat(5 * 1024 * 1024)), 413, "payload_too_large");
    // 10 MiB of zeros compress to about 10 kB: the limit applies to what they expand to.
    const bomb = await gzip(" ".repeat(10 * 1024 * 1024));
    assert(bomb.byteLength < 100_000);
    await expect4xx(post("metrics", bomb, { "content-encoding": "gzip" }), 413, "payload_too_large");
    await expect4xx(post("metrics", "{}", { "content-encoding": "br" }), 415, "unsupported_media_type");
    const empty = await post(
      "metrics",
      JSON.stringify({ resourceMetrics: [{ scopeMetrics: [{ metrics: [{}] }] }] }),
    );
    assertEquals([empty.status, (await empty.json()).partialSuccess.rejectedDataPoints], [200, "1"]);
    assertEquals((await t.client.getRunner(runner.id)).cost.usd, 0.00561, "nothing changed");
  },
  { inProcess: true },
);

eachDaemon(
  "heartbeat: a headless run's result totals (reported) book Claude Code's cost for the runner, once",
  async (t) => {
    await t.client.createProject({ name: "res", path: "/tmp" });
    const { runner, token } = await t.client.launch({ project: "res" });
    const agent = t.client.withToken(token);
    await agent.started(runner.id, { pid: 4242, host: "test-host", sessionId: "sess-result" });
    const total = {
      sessionId: "sess-result",
      model: "claude-sonnet-4-5",
      costUsd: 0.0123,
      input: 100,
      output: 20,
      cacheRead: 300,
      cacheCreation: 40,
    };
    // The last report of a session, sent again by a retry: booked once.
    for (let i = 0; i < 2; i++) {
      assertEquals((await agent.heartbeat(runner.id, { reported: [total] })).state, "running");
    }
    const r = await t.client.getRunner(runner.id);
    assertEquals([r.cost.usd, r.cost.reportedUsd, r.cost.source], [0.0123, 0.0123, "claude-code"]);
    const session = await t.client.getSession("sess-result");
    assertEquals([session.costUsd, session.cost.source], [0.0123, "claude-code"]);
  },
  { inProcess: true },
);
