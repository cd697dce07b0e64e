/**
 * A runner's token is in its session's hands, which prompt injection can steer. It reached other runners'
 * data (a runner of project A took over a session of project B and booked forged tokens to it; a runner
 * overwrote another runner's stored transcript) and outlived its runner (/exited, /claude-hook and /pty
 * still worked). A runner creates or continues only its own project's sessions, never one a live runner
 * holds, and its token stops working a grace after the runner ends.
 */
import { gzip } from "node:zlib";
import { promisify } from "node:util";
import { assertEquals, assertMatch, eventually } from "../helpers/assert.ts";
import { eachDaemon } from "../helpers/daemon.ts";
import { HeartbeatSigner } from "../../lib/signature.ts";

const S = "11111111-2222-4333-8444-555555555555";

function agent(url: string, token: string) {
  const signer = new HeartbeatSigner(token);
  const call = async (method: string, path: string, body?: unknown, signed = false) => {
    const text = body === undefined ? undefined : JSON.stringify(body);
    const res = await fetch(url + path, {
      method,
      headers: {
        authorization: `Bearer ${token}`,
        ...(text === undefined ? {} : { "content-type": "application/json" }),
        ...(signed && text ? signer.headers(text) : {}),
      },
      body: text,
    });
    const out = await res.text();
    return { status: res.status, code: out ? JSON.parse(out).error?.code : undefined, text: out };
  };
  return call;
}

const usage = (input: number) => ({
  usage: [{ sessionId: S, model: "claude-sonnet-4-5", input, output: 1, cacheCreation: 0, cacheRead: 0 }],
});

eachDaemon(
  "runner tokens: a runner claims only its own project's sessions, never a live runner's",
  async (t) => {
    const { client, daemon } = t;
    await client.createProject({ name: "a", path: "/tmp" });
    await client.createProject({ name: "b", path: "/tmp" });
    const b = await client.launch({ project: "b" });
    const a = await client.launch({ project: "a" });
    const b2 = await client.launch({ project: "b" });
    const asB = agent(daemon.url, b.token);
    const asA = agent(daemon.url, a.token);
    const asB2 = agent(daemon.url, b2.token);
    assertEquals(
      (await asB("POST", `/api/v1/runners/${b.runner.id}/started`, { pid: 10, host: "h", sessionId: S }))
        .status,
      200,
    );
    assertEquals(
      (await asB("POST", `/api/v1/runners/${b.runner.id}/heartbeat`, usage(100), true)).status,
      200,
    );

    // Project A's runner: not by its start, nor its usage, nor a hook.
    const started = await asA("POST", `/api/v1/runners/${a.runner.id}/started`, {
      pid: 11,
      host: "h",
      sessionId: S,
    });
    assertEquals([started.status, started.code], [403, "forbidden"], started.text);
    const forged = await asA("POST", `/api/v1/runners/${a.runner.id}/heartbeat`, usage(1_000_000), true);
    assertEquals([forged.status, forged.code], [403, "forbidden"], forged.text);
    const hook = await asA("POST", `/api/v1/runners/${a.runner.id}/claude-hook`, {
      session_id: S,
      hook_event_name: "UserPromptSubmit",
    });
    assertEquals(hook.status, 403, hook.text);
    // Another runner of project B while B's runner still holds the session.
    const live = await asB2("POST", `/api/v1/runners/${b2.runner.id}/heartbeat`, usage(5), true);
    assertEquals([live.status, live.code], [403, "forbidden"], live.text);

    let session = await client.getSession(S);
    assertEquals([session.project, session.runnerId, session.tokens.input], ["b", b.runner.id, 100]);

    // Transcripts: only the session's own runner stores one.
    const gz = new Uint8Array(await promisify(gzip)(new TextEncoder().encode('{"x":1}\n')));
    const upload = (token: string, id: number) =>
      fetch(`${daemon.url}/api/v1/runners/${id}/transcript?session=${S}`, {
        method: "PUT",
        headers: { authorization: `Bearer ${token}`, "content-type": "application/gzip" },
        body: gz,
      });
    const stolen = await upload(b2.token, b2.runner.id);
    assertEquals(stolen.status, 403, await stolen.text());
    const own = await upload(b.token, b.runner.id);
    assertEquals(own.status, 200, await own.text());

    // Once B's runner has ended, another runner of B continues (resumes) the session.
    assertEquals((await asB("POST", `/api/v1/runners/${b.runner.id}/exited`, { exitCode: 0 })).status, 200);
    const resumed = await asB2("POST", `/api/v1/runners/${b2.runner.id}/heartbeat`, usage(7), true);
    assertEquals(resumed.status, 200, resumed.text);
    session = await client.getSession(S);
    assertEquals([session.project, session.runnerId], ["b", b2.runner.id]);
  },
  { inProcess: true },
);

eachDaemon("runner tokens: a runner's token stops working a grace after the runner ends", async (t) => {
  const { client, daemon } = t;
  await client.createProject({ name: "p", path: "/tmp" });
  const r = await client.launch({ project: "p" });
  const call = agent(daemon.url, r.token);
  const id = r.runner.id;
  assertEquals((await call("POST", `/api/v1/runners/${id}/started`, { pid: 10, host: "h" })).status, 200);
  await client.killRunner(id);
  // Within the grace, the agent's last report is still taken.
  const last = await call("POST", `/api/v1/runners/${id}/exited`, { exitCode: 137, signal: "SIGKILL" });
  assertEquals(last.status, 200, last.text);
  // Past the grace (1 s here) the token is refused: waited for, not slept past.
  await eventually(
    async () => (await call("GET", `/api/v1/runners/${id}/pty`)).status === 401,
    10_000,
    "the token refused after its grace",
  );
  for (
    const [method, path, body] of [
      ["POST", `/api/v1/runners/${id}/exited`, { exitCode: 0 }],
      ["POST", `/api/v1/runners/${id}/claude-hook`, { session_id: S, hook_event_name: "SessionStart" }],
      ["GET", `/api/v1/runners/${id}/pty`, undefined],
      ["GET", `/api/v1/runners/${id}/link`, undefined],
      ["POST", "/api/v1/otlp/v1/metrics", { resourceMetrics: [] }],
    ] as const
  ) {
    const res = await call(method, path, body);
    assertEquals([res.status, res.code], [401, "runner_ended"], `${method} ${path}: ${res.text}`);
    assertMatch(res.text, /has ended/);
  }
  assertEquals((await client.getRunner(id)).exitCode, 137);
}, { inProcess: true, env: { STRATAVORE_RUNNER_TOKEN_GRACE: "1s" } });
