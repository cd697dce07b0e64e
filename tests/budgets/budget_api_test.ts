/** Budgets through the real daemon, CLI and agent, on both backends. */
import { assert, assertEquals, assertMatch, eventually } from "../helpers/assert.ts";
import { eachDaemon } from "../helpers/daemon.ts";
import { runStratavore } from "../helpers/cli.ts";
import { projectFolder, spawnAgent } from "../helpers/agent.ts";
import { ApiError } from "../../lib/client.ts";

eachDaemon("budgets: 20 concurrent launches against a budget with room for 2 admit 2", async ({ client }) => {
  await client.createProject({ name: "tight", path: "/tmp", maxRunners: 50 });
  await client.setBudget("project", "tight", { tokens: 1000, reserveTokens: 500 });
  const results = await Promise.allSettled(
    Array.from({ length: 20 }, () => client.launch({ project: "tight" })),
  );
  assertEquals(results.filter((r) => r.status === "fulfilled").length, 2);
  for (const r of results) {
    if (r.status === "rejected") {
      assert(r.reason instanceof ApiError);
      assertEquals([r.reason.apiCode, r.reason.httpStatus], ["budget_exceeded", 429]);
      assertMatch(r.reason.message, /budget project\/tight has no room for another runner/);
    }
  }
  const b = await client.getBudget("project", "tight");
  assertEquals(b.usage.reservedTokens, 1000);
}, { inProcess: true });

eachDaemon("budgets: set, show and remove from the CLI; JSON fields; usage bars", async ({ client, env }) => {
  await client.createProject({ name: "cli-b", path: "/tmp" });
  const set = await runStratavore(
    [
      "budget",
      "set",
      "project",
      "cli-b",
      "--tokens",
      "5000000",
      "--period",
      "week",
      "--warn",
      "75,90",
      "--policy",
      "stop",
    ],
    { env },
  );
  assertEquals(set.code, 0, set.stderr);
  assertEquals(set.stdout.trim(), "budget project/cli-b: 5.0M tokens per week, policy stop");
  await runStratavore(["budget", "set", "global", "--cost", "25"], { env });
  const json = JSON.parse((await runStratavore(["--json", "budget", "show"], { env })).stdout);
  assertEquals(json.budgets.map((b: { name: string }) => b.name), ["global", "project/cli-b"]);
  const proj = json.budgets[1];
  assertEquals([proj.tokenLimit, proj.period, proj.warnAt, proj.policy, proj.usage.state], [
    5000000,
    "week",
    [75, 90],
    "stop",
    "ok",
  ]);
  assert(proj.usage.resetsAt > new Date().toISOString());
  const table = await runStratavore(["budget", "show"], { env: { ...env, COLUMNS: "120" } });
  assertMatch(table.stdout, /project\/cli-b\s+0\s+5\.0M tokens\s+░{20}\s+0%\s+week\s+\S+\s+stop/);
  assertMatch(table.stdout, /global\s+\$0\.00\s+\$25/);
  const bad = await runStratavore(["budget", "set", "project", "--tokens", "5"], { env });
  assertEquals(bad.code, 2);
  assertMatch(bad.stderr, /a project budget needs the project's name/);
  const none = await runStratavore(["budget", "set", "global", "--period", "month"], { env });
  assertEquals(none.code, 2);
  const rm = await runStratavore(["budget", "rm", "project", "cli-b"], { env });
  assertEquals(rm.stdout.trim(), "budget project/cli-b removed");
  const missing = await runStratavore(["budget", "rm", "project", "cli-b"], { env });
  assertEquals(missing.code, 1);
  assertMatch(missing.stderr, /no budget project\/cli-b/);
}, { inProcess: true, subprocesses: true, only: "pglite" });

eachDaemon(
  "budgets: a running session that exhausts a stop-policy budget is stopped by its agent",
  async (t) => {
    const dir = await projectFolder(t.daemon.home, "spend");
    await t.client.createProject({ name: "spend", path: dir });
    await t.client.setBudget("project", "spend", { tokens: 1000, policy: "stop", warnAt: [50] });
    const a = spawnAgent(["agent", "--heartbeat", "300ms", "--", "claude"], {
      env: t.env,
      cwd: dir,
      plan: {
        turns: [{
          blocks: 2,
          usage: {
            input_tokens: 400,
            output_tokens: 800,
            cache_creation_input_tokens: 0,
            cache_read_input_tokens: 0,
          },
        }],
        hooks: [],
        sleepMs: 60_000,
      },
    });
    const r = await a.done;
    assertEquals(r.code, 143, "the agent stopped the session with SIGTERM");
    const [runner] = await t.client.listRunners({ project: "spend", all: true });
    assertEquals([runner.state, runner.reason], ["stopped", "budget project/spend exhausted"]);
    const b = await t.client.getBudget("project", "spend");
    assertEquals([b.usage.tokens, b.usage.state], [1200, "exceeded"]);
    const events = await eventually(async () => {
      const e = await t.client.recentEvents({ types: "budget.*" });
      return e.length >= 3 ? e : undefined;
    }, 10_000);
    assertEquals(events.map((e) => e.type), ["budget.set", "budget.warning", "budget.exceeded"]);
    const refused = await t.client.launch({ project: "spend" }).catch((e) => e);
    assert(refused instanceof ApiError && refused.apiCode === "budget_exceeded", String(refused));
    assertMatch(refused.message, /1,200 of 1,000 tokens; it never resets|1,200 of 1,000 tokens this month/);
  },
  { inProcess: true, subprocesses: true },
);

eachDaemon("budgets: a runner-scope stop budget stops that runner only", async ({ client }) => {
  await client.createProject({ name: "rs", path: "/tmp", maxRunners: 2 });
  const one = await client.launch({ project: "rs" });
  const two = await client.launch({ project: "rs" });
  const agentOne = client.withToken(one.token);
  const agentTwo = client.withToken(two.token);
  await agentOne.started(one.runner.id, { pid: 11, host: "h" });
  await agentTwo.started(two.runner.id, { pid: 12, host: "h" });
  await client.setBudget("runner", String(one.runner.id), { tokens: 1000, policy: "stop", period: "none" });
  const usage = (sessionId: string) => [{
    sessionId,
    model: "claude-sonnet-4-5-20250929",
    input: 400,
    output: 800,
    cacheCreation: 0,
    cacheRead: 0,
    messages: 2,
  }];
  await agentTwo.heartbeat(two.runner.id, { usage: usage("s-two") });
  await agentOne.heartbeat(one.runner.id, { usage: usage("s-one") });
  const answer = await agentOne.heartbeat(one.runner.id, {});
  assert(answer.stopRequested, "the runner over its own budget is asked to stop");
  assertEquals((await client.getRunner(one.runner.id)).state, "stopping");
  assertEquals(
    (await client.getRunner(two.runner.id)).state,
    "running",
    "the other runner is not its budget's",
  );
  const b = await client.getBudget("runner", String(one.runner.id));
  assertEquals([b.usage.tokens, b.usage.state], [1200, "exceeded"]);
}, { inProcess: true });

eachDaemon("budgets: a spent cost limit refuses launches and says to raise the cost", async ({ client }) => {
  await client.createProject({ name: "dear", path: "/tmp" });
  await client.setBudget("project", "dear", { costUsd: 0.01, period: "none" });
  const { runner, token } = await client.launch({ project: "dear" });
  const agent = client.withToken(token);
  await agent.started(runner.id, { pid: 1, host: "h" });
  await agent.heartbeat(runner.id, {
    usage: [{
      sessionId: "s-dear",
      model: "claude-sonnet-4-5-20250929",
      input: 1000,
      output: 10_000,
      cacheCreation: 0,
      cacheRead: 0,
      messages: 3,
    }],
  });
  await agent.exited(runner.id, { exitCode: 0 });
  const refused = await client.launch({ project: "dear" }).catch((e) => e);
  assert(refused instanceof ApiError && refused.apiCode === "budget_exceeded", String(refused));
  assertMatch(refused.message, /budget project\/dear is exhausted: .*\$0\.1[0-9]* of \$0\.01/);
  assertMatch(refused.message, /--cost USD"$/);
  assert(!refused.message.includes("--tokens N"), refused.message);
}, { inProcess: true });
