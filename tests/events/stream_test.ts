/** The event stream (SSE) and the embedded delivery, against a real daemon on both backends. */
import { assert, assertEquals, assertMatch, eventually } from "../helpers/assert.ts";
import { eachDaemon, startDaemon } from "../helpers/daemon.ts";
import { freshPostgres } from "../helpers/db.ts";
import { FAST_TIER, SKIP_PG } from "../helpers/env.ts";
import { runStratavore } from "../helpers/cli.ts";
import { StratavoreClient } from "../../lib/client.ts";
import { followEvents, sseFrames } from "../../lib/sse.ts";
import type { EventEnvelope } from "../../lib/schemas/event.ts";

function collect(client: StratavoreClient, opts: { types?: string; since?: number } = {}) {
  const events: EventEnvelope[] = [];
  const stop = new AbortController();
  let live = false;
  const done = followEvents(client, {
    ...opts,
    signal: stop.signal,
    onEvent: (e) => events.push(e),
    onState: (s) => (live = s === "live"),
  });
  return {
    events,
    isLive: () => live,
    async close() {
      stop.abort();
      await done;
    },
  };
}

eachDaemon(
  "events: the stream delivers state changes live, in commit order per runner, filtered by type",
  async ({ client }) => {
    // The daemon's own daemon.started is published by the relay shortly after start: let it pass first.
    await eventually(async () => (await client.recentEvents({ types: "daemon.*" })).length > 0, 10_000);
    const all = collect(client);
    const runnersOnly = collect(client, { types: "runner.*" });
    await eventually(() => all.isLive() && runnersOnly.isLive(), 10_000, "streams connected");
    await client.createProject({ name: "s", path: "/tmp" });
    const { runner, token } = await client.launch({ project: "s" });
    const agent = client.withToken(token);
    await agent.started(runner.id, { pid: 1, host: "h" });
    await client.stopRunner(runner.id);
    await agent.exited(runner.id, { exitCode: 0 });
    const expected = [
      "project.created",
      "runner.launched",
      "runner.started",
      "runner.stopping",
      "runner.stopped",
    ];
    await eventually(() => all.events.length >= expected.length, 10_000, "all events");
    assertEquals(all.events.map((e) => e.type), expected);
    assertEquals(runnersOnly.events.map((e) => e.type), expected.slice(1));
    const seqs = all.events.map((e) => e.seq!);
    assertEquals([...seqs].sort((a, b) => a - b), seqs, "seq increases");
    assertEquals(
      all.events[4].payload.runner && (all.events[4].payload.runner as { state: string }).state,
      "stopped",
    );
    assertEquals(all.events.every((e) => e.version === 1 && e.project === "s"), true);
    await all.close();
    await runnersOnly.close();
  },
  { inProcess: true },
);

eachDaemon(
  "events: Last-Event-ID resumes after the last event seen, without gaps or repeats",
  async ({ daemon, client }) => {
    await client.createProject({ name: "r1", path: "/tmp" });
    await client.createProject({ name: "r2", path: "/tmp" });
    const seen = await eventually(async () => {
      const r = await client.recentEvents({ types: "project.*" });
      return r.length === 2 ? r : undefined;
    }, 10_000);
    const lastSeq = seen.at(-1)!.seq!; // recent events come oldest first
    await client.createProject({ name: "r3", path: "/tmp" });
    await client.createProject({ name: "r4", path: "/tmp" });
    await eventually(async () => (await client.recentEvents({ types: "project.*" })).length === 4, 10_000);
    // A raw SSE request, as a browser's EventSource would send it after a reconnect.
    const ac = new AbortController();
    const res = await fetch(`${daemon.url}/api/v1/events?types=project.*`, {
      headers: { authorization: `Bearer ${daemon.token}`, "last-event-id": String(lastSeq) },
      signal: ac.signal,
    });
    assertEquals(res.headers.get("content-type"), "text/event-stream; charset=utf-8");
    const got: string[] = [];
    for await (const f of sseFrames(res.body!)) {
      got.push(`${f.event}:${JSON.parse(f.data).entityId}:${f.id}`);
      if (got.length === 3) break;
      if (got.length === 2) await client.createProject({ name: "r5", path: "/tmp" });
    }
    ac.abort();
    // The two missed while away, then the live one: nothing before lastSeq again.
    assertEquals(got.map((g) => g.split(":").slice(0, 2).join(":")), [
      "project.created:r3",
      "project.created:r4",
      "project.created:r5",
    ]);
    assert(got.every((g) => Number(g.split(":")[2]) > lastSeq));
  },
  { inProcess: true },
);

eachDaemon(
  "events: `stratavore events` prints recent events; --json gives envelopes",
  async ({ client, env }) => {
    await client.createProject({ name: "cli-ev", path: "/tmp" });
    await eventually(async () => (await client.recentEvents({ types: "project.*" })).length === 1, 10_000);
    const text = await runStratavore(["events", "--type", "project.*"], { env });
    assertEquals(text.code, 0, text.stderr);
    assertMatch(text.stdout, /project\.created\s+cli-ev\s+project cli-ev created/);
    const json = await runStratavore(["events", "--json", "--type", "project.*,daemon.*"], { env });
    const lines = json.stdout.trim().split("\n").map((l) => JSON.parse(l));
    assertEquals(lines.map((l) => l.type), ["daemon.started", "project.created"]);
    const bad = await runStratavore(["events", "--type", "Runner!"], { env });
    assertEquals(bad.code, 2);
  },
  { inProcess: true, subprocesses: true, only: "pglite" },
);

Deno.test({
  name:
    "events: every daemon on a shared PostgreSQL streams every event, whichever relay published it [postgres]",
  ignore: SKIP_PG || FAST_TIER,
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    const pg = await freshPostgres();
    const a = await startDaemon({ databaseUrl: pg.url });
    const b = await startDaemon({ databaseUrl: pg.url });
    try {
      const ca = new StratavoreClient({ url: a.url, token: a.token });
      const cb = new StratavoreClient({ url: b.url, token: b.token });
      const onA = collect(ca, { types: "project.*" });
      const onB = collect(cb, { types: "project.*" });
      await eventually(() => onA.isLive() && onB.isLive(), 10_000);
      for (let i = 0; i < 20; i++) await (i % 2 ? ca : cb).createProject({ name: `p${i}`, path: "/tmp" });
      await eventually(
        () => onA.events.length === 20 && onB.events.length === 20,
        15_000,
        "20 events on both",
      );
      assertEquals(onA.events.map((e) => e.entityId), onB.events.map((e) => e.entityId));
      await onA.close();
      await onB.close();
    } finally {
      await a.stop();
      await b.stop();
      await pg.drop();
    }
  },
});
