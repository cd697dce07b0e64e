/**
 * A client that has been answered by one installation does not take another's refusal as its daemon's word
 * (lib/runner_client.ts INSTALLATION_HEADER): what keeps an agent's session running when another
 * Stratavore's daemon has taken its daemon's address. And every daemon answer carries the header.
 */
import { assert, assertEquals, assertRejects } from "../helpers/assert.ts";
import { eachDaemon } from "../helpers/daemon.ts";
import { ApiError, INSTALLATION_HEADER, RunnerClient } from "../../lib/runner_client.ts";
import { isAppError } from "../../lib/errors.ts";

/** A loopback server answering each request with the next of `answers` (status, installation header). */
async function withServer(
  answers: { status: number; installation?: string }[],
  fn: (url: string) => Promise<void>,
): Promise<void> {
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, () => {
    const a = answers.shift()!;
    const headers: Record<string, string> = a.installation ? { [INSTALLATION_HEADER]: a.installation } : {};
    return a.status < 400
      ? Response.json({ id: 1, state: "running" }, { headers })
      : Response.json({ error: { code: "unauthorized", message: "invalid token for runner 1" } }, {
        status: a.status,
        headers,
      });
  });
  try {
    await fn(`http://127.0.0.1:${server.addr.port}`);
  } finally {
    await server.shutdown();
  }
}

const call = (c: RunnerClient) => c.claudeHook(1, { session_id: "s", hook_event_name: "Stop" });

Deno.test("installation: a refusal from another installation is not the daemon's word", async () => {
  await withServer([{ status: 200, installation: "A" }, { status: 401, installation: "B" }], async (url) => {
    const c = new RunnerClient({ url, token: "t" });
    await call(c);
    const e = await assertRejects(() => call(c));
    assert(!(e instanceof ApiError), "not an ApiError: the agent's verdict ignores it");
    assert(isAppError(e) && e.code === "daemon_unreachable", String(e));
    assert(/another Stratavore installation/.test((e as Error).message));
  });
  // Not a Stratavore daemon at all (no header) after one that was: the same.
  await withServer([{ status: 200, installation: "A" }, { status: 404 }], async (url) => {
    const c = new RunnerClient({ url, token: "t" });
    await call(c);
    const e = await assertRejects(() => call(c));
    assert(!(e instanceof ApiError));
  });
});

Deno.test("installation: the same installation's refusal, or one before any answer, stands", async () => {
  await withServer([{ status: 200, installation: "A" }, { status: 401, installation: "A" }], async (url) => {
    const c = new RunnerClient({ url, token: "t" });
    await call(c);
    const e = await assertRejects(() => call(c), ApiError);
    assertEquals([e.apiCode, e.httpStatus], ["unauthorized", 401]);
  });
  await withServer([{ status: 401, installation: "B" }], async (url) => {
    await assertRejects(() => call(new RunnerClient({ url, token: "t" })), ApiError);
  });
});

eachDaemon("installation: every answer carries the database's id, refusals and heartbeats too", async (t) => {
  const health = await fetch(`${t.daemon.url}/healthz`);
  await health.body?.cancel();
  const id = health.headers.get(INSTALLATION_HEADER);
  assert(id && /^[0-9a-f-]{36}$/.test(id), `an id: ${id}`);
  const refused = await fetch(`${t.daemon.url}/api/v1/runners`, {
    headers: { authorization: "Bearer nope" },
  });
  await refused.body?.cancel();
  assertEquals([refused.status, refused.headers.get(INSTALLATION_HEADER)], [401, id]);
  await t.client.createProject({ name: "inst", path: "/tmp" });
  const { runner, token } = await t.client.launch({ project: "inst" });
  const agent = t.client.withToken(token);
  await agent.started(runner.id, { pid: 4242, host: "h" });
  for (let i = 0; i < 3; i++) {
    // The heartbeat's fast path (daemon/routes/heartbeat.ts) answers these once the token is cached.
    const hb = await agent.raw("POST", `/api/v1/runners/${runner.id}/heartbeat`, { body: {} });
    await hb.body?.cancel();
    assertEquals(hb.headers.get(INSTALLATION_HEADER), id);
  }
  // The id is the database's: a restart on it keeps it.
  await t.daemon.stop();
  const again = await t.restart();
  const after = await fetch(`${again.url}/healthz`);
  await after.body?.cancel();
  assertEquals(after.headers.get(INSTALLATION_HEADER), id);
});
