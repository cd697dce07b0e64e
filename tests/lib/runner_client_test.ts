/**
 * The agent reads the daemon's answers without zod (lib/runner_client.ts, agent/link.ts,
 * agent/hook_events.ts): each hand-written check is held here to the schema that defines the shape. What the
 * schema accepts the check accepts, with the same values for the fields the agent reads; a wrong value in
 * one of those fields is refused by both.
 */
import { assert, assertEquals } from "../helpers/assert.ts";
import { eachDaemon } from "../helpers/daemon.ts";
import { apiErrorOf, heartbeatAnswerOf, runnerAnswerOf, RunnerClient } from "../../lib/runner_client.ts";
import { heartbeatResponse, runner } from "../../lib/schemas/runner.ts";
import { apiErrorBody } from "../../lib/schemas/common.ts";
import { toAgentMessage } from "../../lib/schemas/link.ts";
import { toAgentMessageOf } from "../../agent/link.ts";
import { sessionStartOf } from "../../agent/hook_events.ts";
import { hookInputSchema } from "../../lib/schemas/hook_input.ts";
import { RUNNER_STATES } from "../../lib/runner_states.ts";
import { ApiError } from "../../lib/client.ts";

/** Both accept with the same value, or both refuse. */
function agree<T>(
  name: string,
  schema: { safeParse(v: unknown): { success: boolean; data?: unknown } },
  check: (v: unknown) => T | undefined,
  sample: unknown,
  read: (v: T) => unknown = (v) => v,
): void {
  const z = schema.safeParse(sample);
  const c = check(sample);
  assertEquals(c !== undefined, z.success, `${name}: ${JSON.stringify(sample)}`);
  if (c !== undefined) assertEquals(read(c), read(z.data as T), `${name}: the same value`);
}

Deno.test("runner client: a heartbeat's answer is checked as its schema does", () => {
  const good = { state: "running", stopRequested: false, intervalMs: 10_000 };
  for (const state of RUNNER_STATES) {
    agree("heartbeat", heartbeatResponse, heartbeatAnswerOf, { ...good, state });
  }
  for (
    const bad of [
      { ...good, state: "paused" },
      { ...good, stopRequested: "no" },
      { ...good, intervalMs: "10s" },
      { state: "running", stopRequested: true },
      null,
      [],
      "running",
    ]
  ) agree("heartbeat", heartbeatResponse, heartbeatAnswerOf, bad);
  // Fields a newer daemon adds are dropped, as the schema drops them.
  agree("heartbeat", heartbeatResponse, heartbeatAnswerOf, { ...good, later: 1 });
});

Deno.test("runner client: the daemon's error body is read as its schema does", () => {
  const good = { error: { code: "runner_not_active", message: "ended", details: { state: "killed" } } };
  const wrapped = (v: unknown) => {
    const e = apiErrorOf(v);
    return e && { error: e };
  };
  agree("error", apiErrorBody, wrapped, good);
  agree("error", apiErrorBody, wrapped, { error: { code: "usage", message: "x" } }, (b) => [
    b.error.code,
    b.error.message,
  ]);
  for (
    const bad of [
      { error: { code: 1, message: "x" } },
      { error: { code: "x" } },
      { error: "x" },
      { message: "x" },
      null,
      "x",
    ]
  ) agree("error", apiErrorBody, wrapped, bad);
});

Deno.test("agent link: the daemon's messages are checked as their schema does", () => {
  const samples: unknown[] = [
    ...RUNNER_STATES.map((state) => ({ t: "state", state, stopRequested: false, reason: null })),
    { t: "state", state: "stopping", stopRequested: true, reason: "enough" },
    { t: "stop", reason: null },
    { t: "stop", reason: "from the web" },
    { t: "kill", reason: "x".repeat(2000) },
    { t: "resize", cols: 1, rows: 1000 },
    // Refused by both:
    { t: "state", state: "asleep", stopRequested: false, reason: null },
    { t: "state", state: "running", stopRequested: false },
    { t: "state", state: "running", stopRequested: "yes", reason: null },
    { t: "stop" },
    { t: "kill", reason: "x".repeat(2001) },
    { t: "kill", reason: 3 },
    { t: "resize", cols: 0, rows: 10 },
    { t: "resize", cols: 80, rows: 1001 },
    { t: "resize", cols: 80.5, rows: 24 },
    { t: "hello", pid: 1 },
    { t: "later-message" },
    null,
    [],
    "stop",
  ];
  for (const s of samples) agree("link", toAgentMessage, toAgentMessageOf, s);
});

Deno.test("agent: a SessionStart line is read where the daemon's schema would read it", () => {
  const good = {
    session_id: "0b4f7c0e-0000-4000-8000-000000000001",
    transcript_path: "/home/u/.claude/projects/p/0b4f.jsonl",
    hook_event_name: "SessionStart",
    source: "clear",
    extra_field: { kept: true },
  };
  const line = sessionStartOf(JSON.stringify(good));
  assertEquals(line, {
    input: good,
    sessionId: good.session_id,
    transcriptPath: good.transcript_path,
  });
  assert(hookInputSchema.safeParse(good).success);
  // What the agent reads is refused when the schema refuses it; the rest is the daemon's to check.
  for (
    const bad of [{ ...good, session_id: "" }, { ...good, session_id: "x".repeat(201) }, {
      ...good,
      session_id: 7,
    }]
  ) {
    assertEquals(sessionStartOf(JSON.stringify(bad)), undefined);
    assertEquals(hookInputSchema.safeParse(bad).success, false);
  }
  for (const torn of ['{"session_id":"abc', "", "[]", "null"]) assertEquals(sessionStartOf(torn), undefined);
  assertEquals(sessionStartOf(JSON.stringify({ ...good, transcript_path: "" }))?.transcriptPath, undefined);
});

eachDaemon("runner client: a runner in the daemon's answers is read as its schema reads it", async (t) => {
  await t.client.createProject({ name: "guards", path: t.daemon.home });
  const { runner: launched, token } = await t.client.launch({ project: "guards" });
  const res = await t.client.raw("GET", `/api/v1/runners/${launched.id}`);
  const real = await res.json();
  agree("runner", runner, runnerAnswerOf, real, (r) => ({ id: r.id, state: r.state }));
  for (const state of RUNNER_STATES) {
    agree("runner", runner, runnerAnswerOf, { ...real, state }, (r) => ({ id: r.id, state: r.state }));
  }
  agree("runner", runner, runnerAnswerOf, { ...real, state: "asleep" });
  agree("runner", runner, runnerAnswerOf, { ...real, id: "1" });

  // The agent's own client against the real daemon: answers read, refusals carry the API's code.
  const agent = new RunnerClient({ url: t.daemon.url, token, agent: "stratavore-agent" });
  const started = await agent.started(launched.id, { pid: 4242, host: "guards-host" });
  assertEquals([started.id, started.state], [launched.id, "running"]);
  const hb = await agent.heartbeat(launched.id, { cpuPercent: 1, rssBytes: 1 });
  assertEquals([hb.state, hb.stopRequested, typeof hb.intervalMs], ["running", false, "number"]);
  const ended = await agent.exited(launched.id, { exitCode: 0 });
  assertEquals(ended.state, "stopped");
  const refused = await agent.heartbeat(launched.id, {}).catch((e) => e);
  assert(refused instanceof ApiError, String(refused));
  assertEquals(refused.apiCode, "runner_not_active");
}, { inProcess: true });
