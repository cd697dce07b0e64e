/**
 * Heartbeat replay protection lived in one daemon's memory: a heartbeat captured before a restart was
 * accepted after it (and by any other daemon on the same PostgreSQL). The last accepted signature time is
 * kept in the database with the heartbeat.
 */
import { assertEquals, assertMatch } from "../helpers/assert.ts";
import { eachDaemon, startDaemon } from "../helpers/daemon.ts";
import { sign, SIGNATURE_HEADER, signingKey } from "../../lib/signature.ts";

async function send(url: string, id: number, token: string, body: string, header: string) {
  const res = await fetch(`${url}/api/v1/runners/${id}/heartbeat`, {
    method: "POST",
    headers: {
      authorization: `Bearer ${token}`,
      "content-type": "application/json",
      [SIGNATURE_HEADER]: header,
    },
    body,
  });
  return [res.status, (await res.json()).error?.message ?? "ok"];
}

eachDaemon("replay: a heartbeat captured before a restart is refused after it", async (t) => {
  await t.client.createProject({ name: "p", path: "/tmp" });
  const { runner, token } = await t.client.launch({ project: "p" });
  await t.client.withToken(token).started(runner.id, { pid: 1234, host: "h" });
  const body = '{"cpuPercent":3}';
  const captured = sign(signingKey(token), Date.now(), body);
  assertEquals(await send(t.daemon.url, runner.id, token, body, captured), [200, "ok"]);
  await t.daemon.stop();
  const again = await t.restart();
  const [status, message] = await send(again.url, runner.id, token, body, captured);
  assertEquals(status, 401);
  assertMatch(String(message), /replayed/);
  assertEquals((await t.client.withToken(again.token).getRunner(runner.id)).heartbeatCount, 1);
}, { inProcess: true, fixedPort: true });

eachDaemon(
  "replay: another daemon on the same database refuses a heartbeat the first accepted",
  async (t) => {
    await t.client.createProject({ name: "p", path: "/tmp" });
    const { runner, token } = await t.client.launch({ project: "p" });
    const body = '{"cpuPercent":3}';
    const captured = sign(signingKey(token), Date.now(), body);
    assertEquals(await send(t.daemon.url, runner.id, token, body, captured), [200, "ok"]);
    const other = await startDaemon({ databaseUrl: t.databaseUrl, env: { FAKE_CLAUDE_PLAN: "{}" } });
    try {
      const [status, message] = await send(other.url, runner.id, token, body, captured);
      assertEquals(status, 401);
      assertMatch(String(message), /replayed/);
    } finally {
      await other.stop();
    }
  },
  { only: "postgres" },
);
