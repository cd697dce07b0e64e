/**
 * Values the schema allowed but the database could not hold (or JSON could not carry) broke requests for
 * good: one heartbeat with 2^53−1 tokens made every listing answer 500; a Windows crash exit code
 * (0xC0000005) gave 500 on /exited; a pid over 2^31 failed the whole heartbeat batch of other runners.
 */
import { assert, assertEquals } from "../helpers/assert.ts";
import { eachDaemon } from "../helpers/daemon.ts";
import { HeartbeatSigner } from "../../lib/signature.ts";

async function post(url: string, token: string, body: unknown, signed = false) {
  const text = JSON.stringify(body);
  const headers: Record<string, string> = {
    authorization: `Bearer ${token}`,
    "content-type": "application/json",
    ...(signed ? new HeartbeatSigner(token).headers(text) : {}),
  };
  const res = await fetch(url, { method: "POST", headers, body: text });
  return { status: res.status, body: await res.json() };
}

eachDaemon(
  "bounds: huge token counters are refused and listings keep working",
  async ({ daemon, client }) => {
    await client.createProject({ name: "p", path: "/tmp" });
    const { runner, token } = await client.launch({ project: "p" });
    const hb = `${daemon.url}/api/v1/runners/${runner.id}/heartbeat`;
    const huge = 2 ** 53 - 1;
    const usage = (n: number) => ({
      sessionId: "s-1",
      model: "claude-sonnet-4-5",
      input: n,
      output: n,
      cacheCreation: n,
      cacheRead: n,
    });
    const refused = await post(hb, token, {
      tokens: { input: huge, output: 1, cacheCreation: 0, cacheRead: 0 },
    }, true);
    assertEquals(refused.status, 400, JSON.stringify(refused.body));
    const refusedUsage = await post(hb, token, { usage: [usage(huge)] }, true);
    assertEquals(refusedUsage.status, 400, JSON.stringify(refusedUsage.body));
    // The largest plausible counters, reported by many heartbeats, still sum and serialise.
    const max = 1e12;
    const ok = await post(hb, token, {
      usage: [usage(max)],
      tokens: { input: max, output: max, cacheCreation: max, cacheRead: max },
    }, true);
    assertEquals(ok.status, 200, JSON.stringify(ok.body));
    for (
      const path of [
        "/api/v1/projects",
        "/api/v1/projects/p",
        "/api/v1/usage",
        "/api/v1/sessions",
        "/api/v1/runners",
        `/api/v1/runners/${runner.id}`,
        "/api/v1/status",
      ]
    ) {
      const res = await fetch(daemon.url + path, { headers: { authorization: `Bearer ${daemon.token}` } });
      assertEquals(res.status, 200, `${path}: ${await res.clone().text()}`);
      await res.body?.cancel();
    }
  },
  { inProcess: true },
);

eachDaemon("bounds: a Windows crash exit code is recorded", async ({ daemon, client }) => {
  await client.createProject({ name: "p", path: "/tmp" });
  const { runner, token } = await client.launch({ project: "p" });
  await client.withToken(token).started(runner.id, { pid: 4242, host: "h" });
  const res = await post(`${daemon.url}/api/v1/runners/${runner.id}/exited`, token, { exitCode: 0xC0000005 });
  assertEquals(res.status, 200, JSON.stringify(res.body));
  assertEquals((await client.getRunner(runner.id)).exitCode, 3221225477);
}, { inProcess: true });

eachDaemon(
  "bounds: one heartbeat's impossible pid fails only its own request",
  async ({ daemon, client }) => {
    await client.createProject({ name: "p", path: "/tmp", maxRunners: 30 });
    const runners = [];
    for (let i = 0; i < 20; i++) runners.push(await client.launch({ project: "p" }));
    const results = await Promise.all(
      runners.map(({ runner, token }, i) =>
        post(`${daemon.url}/api/v1/runners/${runner.id}/heartbeat`, token, {
          pid: i === 0 ? 2 ** 31 + 5 : 1000 + i,
        }, true)
      ),
    );
    assertEquals(results[0].status, 400, JSON.stringify(results[0].body));
    const others = results.slice(1).map((r) => r.status);
    assert(others.every((s) => s === 200), `other runners' heartbeats: ${others.join(",")}`);
  },
  { inProcess: true },
);

eachDaemon(
  "bounds: telemetry with absurd counters is booked bounded, and listings keep working",
  async ({ daemon, client }) => {
    const { REPO } = await import("../helpers/env.ts");
    const fixture = await Deno.readTextFile(`${REPO}/tests/fixtures/otlp/metrics.json`);
    await client.createProject({ name: "p", path: "/tmp" });
    const { runner, token } = await client.launch({ project: "p" });
    const huge = fixture
      .replaceAll(
        '"key":"stratavore.runner.id","value":{"stringValue":"42"}',
        `"key":"stratavore.runner.id","value":{"stringValue":"${runner.id}"}`,
      )
      .replace(/"asDouble":\s*[0-9.]+/g, '"asDouble": 1e300');
    const res = await fetch(`${daemon.url}/api/v1/otlp/v1/metrics`, {
      method: "POST",
      headers: { "content-type": "application/json", authorization: `Bearer ${token}` },
      body: huge,
    });
    assert(res.status < 500, `export answered ${res.status}: ${await res.clone().text()}`);
    await res.body?.cancel();
    for (
      const path of ["/api/v1/projects", "/api/v1/usage", "/api/v1/sessions", `/api/v1/runners/${runner.id}`]
    ) {
      const r = await fetch(daemon.url + path, { headers: { authorization: `Bearer ${daemon.token}` } });
      assertEquals(r.status, 200, `${path}: ${await r.clone().text()}`);
      await r.body?.cancel();
    }
    assert(!daemon.logs().some((l) => /"level":"error"/.test(l)), "no errors logged");
  },
  { inProcess: true },
);
