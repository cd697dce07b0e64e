/**
 * Detached headless runs of the real Claude Code (`launch --detach --prompt`): the session's cost is Claude
 * Code's own (its result event and its telemetry agree), tokens equal the transcript's, API calls are kept.
 */
import { assert, assertEquals, eventually } from "../helpers/assert.ts";
import { runStratavore } from "../helpers/cli.ts";
import { eachRealDaemon } from "./harness.ts";

/** The result event of a detached run, from its log (the raw stream-json). */
async function resultOf(home: string, runnerId: number): Promise<Record<string, unknown>> {
  const lines = (await Deno.readTextFile(`${home}/logs/${runnerId}.jsonl`)).split("\n").filter(Boolean);
  const result = lines.map((l) => JSON.parse(l)).find((e) => e.type === "result");
  assert(result, "the run ended with a result event");
  return result;
}

const near = (a: number, b: number) => Math.abs(a - b) < 1e-6;

eachRealDaemon("a detached headless run costs what Claude Code reports, to the micro-dollar", async (t) => {
  const marker = `headless-${crypto.randomUUID()}`;
  t.api.routes.set(marker, {
    text: "All tests pass.",
    usage: { input: 2345, output: 678, cacheRead: 9100, cacheWrite5m: 1200, cacheWrite1h: 300 },
  });
  const launched = await runStratavore(
    [
      "--json",
      "launch",
      t.project,
      "--detach",
      "--prompt",
      `${marker} run the tests`,
      "--",
      "--model",
      "claude-opus-5-5",
    ],
    { env: t.env, cwd: t.dir },
  );
  assertEquals(launched.code, 0, launched.stderr);
  const id = JSON.parse(launched.stdout).id as number;
  const done = await eventually(
    async () => {
      const r = await t.client.getRunner(id);
      return r.state === "stopped" || r.state === "failed" ? r : undefined;
    },
    60_000,
    "the run ended",
  );
  assertEquals(done.state, "stopped", done.reason ?? "");
  const result = await resultOf(t.daemon.home, id);
  const claudeCost = result.total_cost_usd as number;
  assert(claudeCost > 0, "Claude Code reported a cost");
  // Telemetry may land just after the exit: wait for the cost to settle on Claude Code's figure.
  const runner = await eventually(
    async () => {
      const r = await t.client.getRunner(id);
      return near(r.cost.usd, claudeCost) ? r : undefined;
    },
    15_000,
    `the runner's cost to become Claude Code's $${claudeCost}`,
  );
  assertEquals(runner.cost.source, "claude-code");
  assertEquals(runner.telemetry, "stratavore");
  assertEquals(runner.tokens, { input: 2345, output: 678, cacheCreation: 1500, cacheRead: 9100 });

  const session = await t.client.getSession(runner.sessionId!);
  assert(near(session.costUsd, claudeCost), `session cost ${session.costUsd} = ${claudeCost}`);
  assertEquals(session.cost.source, "claude-code");
  const usage = await t.client.usage({ project: t.project, by: "model" });
  assert(near(usage.total.costUsd, claudeCost), `usage total ${usage.total.costUsd} = ${claudeCost}`);
  assertEquals(usage.rows.map((r) => r.key), ["claude-opus-5-5"]);
});
