/** The real agent around the fake claude, against a real daemon, on both storage backends. */
import postgres from "postgres";
import { assert, assertEquals, assertMatch, eventually } from "../helpers/assert.ts";
import { eachDaemon } from "../helpers/daemon.ts";
import { projectFolder, spawnAgent } from "../helpers/agent.ts";
import type { PlanInput } from "../fixtures/fake_claude_plan.ts";

const MAIN_MODEL = "claude-sonnet-4-5-20250929";
const SIDE_MODEL = "claude-haiku-4-5-20251001";

/** Two turns (three and two content-block lines repeating one usage each), a subagent and an API error. */
const PLAN: PlanInput = {
  turns: [
    {
      blocks: 3,
      usage: {
        input_tokens: 10,
        output_tokens: 20,
        cache_creation_input_tokens: 30,
        cache_read_input_tokens: 40,
      },
    },
    {
      blocks: 2,
      usage: {
        input_tokens: 1,
        output_tokens: 2,
        cache_creation_input_tokens: 0,
        cache_read_input_tokens: 100,
      },
    },
  ],
  sidechain: {
    model: SIDE_MODEL,
    blocks: 2,
    usage: {
      input_tokens: 5,
      output_tokens: 15,
      cache_creation_input_tokens: 100,
      cache_read_input_tokens: 200,
    },
  },
  apiError: true,
  hooks: [],
};
/** Counted once per (message.id, requestId): what ccusage would report. */
const EXPECTED = { input: 16, output: 37, cacheCreation: 130, cacheRead: 340 };

eachDaemon(
  "agent: refused by the quota, it starts nothing and exits 1 with the daemon's reason",
  async (t) => {
    const dir = await projectFolder(t.daemon.home, "full");
    await t.client.createProject({ name: "full", path: dir, maxRunners: 0 });
    const a = spawnAgent(["agent", "--project", "full", "--", "claude"], {
      env: t.env,
      cwd: dir,
      plan: PLAN,
    });
    const r = await a.done;
    assertEquals(r.code, 1, r.stderr);
    assertMatch(r.stderr, /project "full" accepts no new runners/);
    assert(!r.stderr.includes("    at "), "no stack trace");
    let wrote = true;
    try {
      await Deno.stat(`${t.claudeDir}/projects`);
    } catch {
      wrote = false;
    }
    assertEquals(wrote, false, "claude never ran");
    assertEquals(await t.client.listRunners({ all: true }), []);
  },
);

eachDaemon("agent: heartbeats carry CPU and RSS; exact de-duplicated tokens; exit 0 → stopped", async (t) => {
  const dir = await projectFolder(t.daemon.home, "tok");
  await t.client.createProject({ name: "tok", path: dir });
  const a = spawnAgent(["agent", "--heartbeat", "300ms", "--", "claude"], {
    env: t.env,
    cwd: dir,
    plan: { ...PLAN, sleepMs: 2500 },
  });
  const running = await eventually(
    async () => {
      const [r] = await t.client.listRunners({ project: "tok" });
      return r && r.heartbeatCount >= 3 && r.cpuPercent !== null ? r : undefined;
    },
    20_000,
    "heartbeats with CPU figures",
  );
  assertEquals(running.state, "running");
  assert((running.rssBytes ?? 0) > 1_000_000, `RSS of the tree: ${running.rssBytes}`);
  assertEquals(running.pid !== null, true);
  const r = await a.done;
  assertEquals(r.code, 0, r.stderr);
  const [done] = await t.client.listRunners({ project: "tok", all: true });
  assertEquals([done.state, done.exitCode], ["stopped", 0]);
  assertEquals(done.tokens, EXPECTED);
  assertMatch(done.sessionId ?? "", /^[0-9a-f-]{36}$/);
  if (t.databaseUrl) {
    const sql = postgres(t.databaseUrl, { max: 1, onnotice: () => {} });
    try {
      const rows = await sql`SELECT model, input_tokens::int AS i, output_tokens::int AS o,
        cache_creation_tokens::int AS cc, cache_read_tokens::int AS cr FROM token_usage ORDER BY model`;
      assertEquals(rows.map((x) => [x.model, x.i, x.o, x.cc, x.cr]), [
        [SIDE_MODEL, 5, 15, 100, 200],
        [MAIN_MODEL, 11, 22, 30, 140],
      ]);
      const [s] = await sql`SELECT id, tokens_input::int AS i, resumable, message_count FROM sessions`;
      assertEquals([s.id, s.i, s.resumable, s.message_count], [done.sessionId, 16, true, 3]);
    } finally {
      await sql.end();
    }
  }
});

eachDaemon("agent: the command's exit code is the agent's, and a failure is recorded", async (t) => {
  const dir = await projectFolder(t.daemon.home, "bad");
  await t.client.createProject({ name: "bad", path: dir });
  const r = await spawnAgent(["agent", "--project", "bad", "--", "claude"], {
    env: t.env,
    cwd: dir,
    plan: { turns: [], exitCode: 3 },
  }).done;
  assertEquals(r.code, 3, r.stderr);
  const [runner] = await t.client.listRunners({ project: "bad", all: true });
  assertEquals([runner.state, runner.exitCode, runner.reason], ["failed", 3, "exited with code 3"]);
});

eachDaemon("agent: --runner ID --token T wraps a runner registered through the API", async (t) => {
  const dir = await projectFolder(t.daemon.home, "api-made");
  await t.client.createProject({ name: "api-made", path: dir });
  const { runner, token } = await t.client.launch({ project: "api-made" });
  const run = (extra: string[]) =>
    spawnAgent(["agent", "--runner", String(runner.id), ...extra, "--", "claude"], {
      env: t.env,
      cwd: dir,
      plan: { turns: [], exitCode: 0 },
    }).done;
  const refused = await run([]);
  assertEquals(refused.code, 2, refused.stderr);
  assertMatch(
    refused.stderr,
    /--runner needs the runner's token: pass --token T or set STRATAVORE_RUNNER_TOKEN/,
  );
  const r = await run(["--token", token]);
  assertEquals(r.code, 0, r.stderr);
  const done = await t.client.getRunner(runner.id);
  assertEquals([done.state, done.exitCode], ["stopped", 0]);
  assert(done.heartbeatCount >= 1 || done.startedAt !== null, "the agent reported to the runner");
});

eachDaemon("agent: stop from the API reaches the child (SIGTERM) and the runner ends stopped", async (t) => {
  const dir = await projectFolder(t.daemon.home, "stop");
  await t.client.createProject({ name: "stop", path: dir });
  const a = spawnAgent(["agent", "--heartbeat", "200ms", "--", "claude"], {
    env: t.env,
    cwd: dir,
    plan: { turns: [], sleepMs: 60_000 },
  });
  const runner = await eventually(
    async () =>
      (await t.client.listRunners({ project: "stop" }))[0]?.state === "running"
        ? (await t.client.listRunners({ project: "stop" }))[0]
        : undefined,
    20_000,
    "running",
  );
  await t.client.stopRunner(runner.id, "test says stop");
  const r = await a.done;
  assertEquals(r.code, 143, "the fake claude exits 143 on SIGTERM");
  const got = await t.client.getRunner(runner.id);
  assertEquals([got.state, got.exitCode, got.reason], ["stopped", 143, "test says stop"]);
});

eachDaemon("agent: kill from the API ends the child's tree at once", async (t) => {
  const dir = await projectFolder(t.daemon.home, "kill");
  await t.client.createProject({ name: "kill", path: dir });
  const a = spawnAgent(["agent", "--heartbeat", "200ms", "--", "claude"], {
    env: t.env,
    cwd: dir,
    plan: { turns: [], sleepMs: 60_000 },
  });
  const runner = await eventually(
    async () => {
      const [r] = await t.client.listRunners({ project: "kill" });
      return r?.state === "running" ? r : undefined;
    },
    20_000,
    "running",
  );
  const started = Date.now();
  await t.client.killRunner(runner.id);
  const r = await a.done;
  assertEquals(r.code, 137, "SIGKILL");
  assert(Date.now() - started < 5000, "ended within a few heartbeats");
  const got = await t.client.getRunner(runner.id);
  assertEquals([got.state, got.exitCode], ["killed", 137]);
});

eachDaemon("agent: SIGINT to the agent (no terminal) is passed to the child", async (t) => {
  const dir = await projectFolder(t.daemon.home, "int");
  await t.client.createProject({ name: "int", path: dir });
  const a = spawnAgent(["agent", "--heartbeat", "200ms", "--", "claude"], {
    env: t.env,
    cwd: dir,
    plan: { turns: [], sleepMs: 60_000 },
  });
  await eventually(
    async () => (await t.client.listRunners({ project: "int" }))[0]?.state === "running",
    20_000,
  );
  Deno.kill(a.pid, "SIGINT");
  const r = await a.done;
  assertEquals(r.code, 130, "the fake claude exits 130 on SIGINT");
  const [got] = await t.client.listRunners({ project: "int", all: true });
  assertEquals([got.state, got.exitCode], ["failed", 130]);
});

eachDaemon("agent: Claude Code hooks drive the waiting-for-input state", async (t) => {
  const dir = await projectFolder(t.daemon.home, "hooks");
  await t.client.createProject({ name: "hooks", path: dir });
  const a = spawnAgent(["agent", "--heartbeat", "300ms", "--", "claude"], {
    env: t.env,
    cwd: dir,
    plan: { turns: [{}], hooks: ["SessionStart", "Stop", "Notification:idle_prompt"], sleepMs: 60_000 },
  });
  const waiting = await eventually(
    async () => {
      const [r] = await t.client.listRunners({ project: "hooks" });
      return r?.activity === "waiting_for_input" ? r : undefined;
    },
    30_000,
    "waiting_for_input",
  );
  assertEquals(waiting.activityDetail, "idle_prompt");
  assert(waiting.sessionId, "the hook reported the session");
  await t.client.stopRunner(waiting.id);
  await a.done;
});

eachDaemon("agent: a new session (SessionStart, as after /clear) reaches the daemon at once", async (t) => {
  const dir = await projectFolder(t.daemon.home, "clear");
  await t.client.createProject({ name: "clear", path: dir });
  // Heartbeats a minute apart: only the agent following the events file as it grows can be this quick.
  const a = spawnAgent(["agent", "--heartbeat", "60s", "--", "claude"], {
    env: t.env,
    cwd: dir,
    plan: { turns: [], hooks: [], sleepMs: 60_000 },
  });
  const runner = await eventually(
    async () => {
      const [r] = await t.client.listRunners({ project: "clear" });
      return r?.state === "running" && r.sessionId ? r : undefined;
    },
    20_000,
    "running",
  );
  // What Claude Code's SessionStart command does on /clear: append its JSON to the runner's events file.
  const next = crypto.randomUUID();
  const line = JSON.stringify({ session_id: next, hook_event_name: "SessionStart", source: "clear" });
  const appended = Date.now();
  await Deno.writeTextFile(`${t.daemon.home}/runs/${runner.id}/hook-events.jsonl`, `${line}\n`, {
    append: true,
  });
  const followed = await eventually(
    async () => {
      const r = await t.client.getRunner(runner.id);
      return r.sessionId === next ? r : undefined;
    },
    10_000,
    "the runner to follow the new session",
  );
  assertEquals([followed.activity, followed.activityDetail], ["idle", "clear"]);
  assert(Date.now() - appended < 30_000, `followed after ${Date.now() - appended} ms, not at a heartbeat`);
  await t.client.stopRunner(runner.id);
  await a.done;
});

eachDaemon(
  "agent: the daemon killed and restarted mid-session loses neither the runner nor its tokens",
  async (t) => {
    const dir = await projectFolder(t.daemon.home, "phoenix");
    await t.client.createProject({ name: "phoenix", path: dir });
    const a = spawnAgent(["agent", "--heartbeat", "300ms", "--", "claude"], {
      env: t.env,
      cwd: dir,
      plan: { ...PLAN, turnDelayMs: 1500, sleepMs: 4000 },
    });
    const runner = await eventually(
      async () => {
        const [r] = await t.client.listRunners({ project: "phoenix" });
        return r?.state === "running" && r.heartbeatCount > 0 ? r : undefined;
      },
      20_000,
      "running",
    );
    await t.daemon.stop("SIGKILL");
    await new Promise((r) => setTimeout(r, 1500));
    const second = await t.restart();
    const { StratavoreClient } = await import("../../lib/client.ts");
    const client = new StratavoreClient({ url: second.url, token: second.token });
    assertEquals(second.url, t.daemon.url, "same address");
    const r = await a.done;
    assertEquals(r.code, 0, r.stderr);
    const got = await client.getRunner(runner.id);
    assertEquals([got.state, got.exitCode], ["stopped", 0]);
    assertEquals(got.tokens, EXPECTED);
  },
  { fixedPort: true, env: { STRATAVORE_HEARTBEAT_TTL: "5s", STRATAVORE_RECONCILE_INTERVAL: "500ms" } },
);

eachDaemon("launch: --detach runs a headless prompt on the daemon's machine; logs show it", async (t) => {
  const dir = await projectFolder(t.daemon.home, "bg");
  await t.client.createProject({ name: "bg", path: dir });
  const { runStratavore } = await import("../helpers/cli.ts");
  await Deno.writeTextFile(t.planFile, JSON.stringify({ turns: [{ text: "All tests pass." }], hooks: [] }));
  const launched = await runStratavore(["--json", "launch", "bg", "--detach", "--prompt", "run the tests"], {
    env: t.env,
    cwd: dir,
  });
  assertEquals(launched.code, 0, launched.stderr);
  const runner = JSON.parse(launched.stdout);
  assertEquals([runner.mode, runner.prompt], ["headless", "run the tests"]);
  const logs = await runStratavore(["logs", String(runner.id), "-f"], {
    env: t.env,
    cwd: dir,
    timeoutMs: 60_000,
  });
  assertEquals(logs.code, 0, logs.stderr);
  assertMatch(logs.stdout, /● session [0-9a-f-]{36}/);
  assertMatch(logs.stdout, /All tests pass\./);
  assertMatch(logs.stdout, /✓ done in .* 1 turn\(s\) · \$\d/);
  const done = await eventually(
    async () => {
      const r = await t.client.getRunner(runner.id);
      return r.state === "stopped" ? r : undefined;
    },
    20_000,
    "stopped",
  );
  assertMatch(done.reason ?? "", /^completed: 1 turn\(s\), \$/);
  if (done.tokens.output === 0) {
    console.error(await Deno.readTextFile(`${t.daemon.home}/logs/${runner.id}.agent.log`));
  }
  assert(done.tokens.output > 0, "usage booked");
  const raw = await runStratavore(["logs", String(runner.id), "--raw"], { env: t.env, cwd: dir });
  assert(raw.stdout.split("\n").filter(Boolean).every((l) => JSON.parse(l)), "raw lines are the stream-json");
});
