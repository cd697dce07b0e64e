/**
 * A runner's hooks are recorded in the order they arrive (daemon/hook_order.ts): Claude Code goes on after
 * its hook timeout, so on a loaded daemon a later hook can arrive while an earlier one is being written.
 */
import { assert, assertEquals } from "../helpers/assert.ts";
import { eachDaemon } from "../helpers/daemon.ts";
import { ArrivalOrder } from "../../daemon/hook_order.ts";

Deno.test("hook order: places take their turns in the order they were taken, per key", async () => {
  const order = new ArrivalOrder();
  const seen: string[] = [];
  const a = order.enter(1);
  const b = order.enter(1);
  const c = order.enter(1);
  const other = order.enter(2);
  const turns = [
    b.turn.then(() => seen.push("b")),
    c.turn.then(() => seen.push("c")),
    other.turn.then(() => seen.push("other")),
  ];
  await a.turn;
  await new Promise((r) => setTimeout(r, 20));
  assertEquals(seen, ["other"], "another runner's hook waits for nobody; b waits for a");
  a.leave();
  a.leave(); // idempotent: a second leave lets nobody else through
  await new Promise((r) => setTimeout(r, 20));
  assertEquals(seen, ["other", "b"]);
  c.leave(); // leaving before one's turn (a route that failed early) keeps the line's order for the rest
  b.leave();
  other.leave();
  await Promise.all(turns);
  assertEquals(seen, ["other", "b", "c"]);
  await new Promise((r) => setTimeout(r, 0));
  assertEquals(order.size, 0, "an idle line is forgotten");
});

eachDaemon(
  "hook order: a slow StopFailure is not overwritten by the prompt that arrived after it",
  async ({ client }) => {
    await client.createProject({ name: "order", path: "/tmp" });
    const { runner, token } = await client.launch({ project: "order" });
    const agent = client.withToken(token);
    await agent.started(runner.id, { pid: 4242, host: "test-host" });
    // A limit StopFailure waits (up to 1.5 s) for the refused turn to reach the transcript before it writes:
    // this one's transcript never gets it, so it is slow. The prompt after it is quick.
    const transcript = await Deno.makeTempFile({ suffix: ".jsonl" });
    try {
      const session = "s-order";
      const failure = agent.claudeHook(runner.id, {
        session_id: session,
        transcript_path: transcript,
        hook_event_name: "StopFailure",
        error: "rate_limit",
      });
      await new Promise((r) => setTimeout(r, 100));
      const submitted = Date.now();
      await agent.claudeHook(runner.id, { session_id: session, hook_event_name: "UserPromptSubmit" });
      assert(Date.now() - submitted >= 500, "the later hook waited for the earlier one");
      await failure;
      const r = await client.getRunner(runner.id);
      assertEquals([r.activity, r.activityDetail], ["busy", null], "the later hook's activity stands");
    } finally {
      await Deno.remove(transcript);
    }
  },
  { inProcess: true },
);

eachDaemon(
  "hook order: a hook whose body never finishes does not hold the runner's next hook",
  async ({ client, daemon }) => {
    await client.createProject({ name: "stall", path: "/tmp" });
    const { runner, token } = await client.launch({ project: "stall" });
    const agent = client.withToken(token);
    await agent.started(runner.id, { pid: 4242, host: "test-host" });
    const { hostname, port } = new URL(daemon.url);
    const conn = await Deno.connect({ hostname, port: Number(port) });
    try {
      // Headers and the start of a body, then nothing more: the connection stays open.
      await conn.write(new TextEncoder().encode(
        `POST /api/v1/runners/${runner.id}/claude-hook HTTP/1.1\r\nHost: ${hostname}:${port}\r\n` +
          `Authorization: Bearer ${token}\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n{`,
      ));
      await new Promise((r) => setTimeout(r, 200));
      const started = Date.now();
      await agent.claudeHook(runner.id, { session_id: "s-stall", hook_event_name: "UserPromptSubmit" });
      assert(Date.now() - started < 3000, `answered after ${Date.now() - started} ms`);
      assertEquals((await client.getRunner(runner.id)).activity, "busy");
    } finally {
      conn.close();
    }
  },
  { inProcess: true },
);
