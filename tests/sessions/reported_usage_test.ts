/**
 * Booking cost: Claude Code's reported figures replace the table's estimate; repeated or overlapping
 * reports (telemetry and a result event of the same requests) never count twice; series of one source add
 * up; a model with neither a price nor a report stays unpriced. In-process, on both backends.
 */
import { assert, assertEquals } from "../helpers/assert.ts";
import { eachBackend } from "../helpers/db.ts";
import type { Db } from "../../lib/db/types.ts";
import { createProject } from "../../daemon/store/projects.ts";
import { getRunner, launchRunner, transition } from "../../daemon/store/runners.ts";
import { recordReported, recordUsage } from "../../daemon/store/usage.ts";
import { costOf } from "../../lib/claude/pricing.ts";
import type { ReportedPoint } from "../../lib/claude/telemetry_usage.ts";

const MODEL = "claude-sonnet-5-5";
const near = (a: number, b: number) => Math.abs(a - b) < 1e-9;

async function runner(db: Db): Promise<number> {
  await db.transaction((tx) => createProject(tx, { name: "api", path: "/tmp", maxRunners: 50 }));
  const { runner } = await db.transaction((tx) => launchRunner(tx, { project: "api" }));
  await db.transaction((tx) => transition(tx, runner.id, "running", { pid: 1 }));
  return runner.id;
}

const usage = (input: number, output: number, model = MODEL) => ({
  sessionId: "s1",
  model,
  input,
  output,
  cacheCreation: 0,
  cacheRead: 0,
  messages: 1,
});

const report = (
  series: string,
  kind: ReportedPoint["kind"],
  value: number,
  model = MODEL,
): ReportedPoint => ({
  series,
  start: "1",
  sessionId: "s1",
  model,
  kind,
  value,
});

async function sums(db: Db) {
  const [t] = await db.query<{ cost: number; reported: number; estimated: number; unpriced: number }>(
    `SELECT coalesce(sum(cost_usd), 0)::float8 AS cost, coalesce(sum(reported_cost_usd), 0)::float8 AS reported,
       coalesce(sum(estimated_cost_usd), 0)::float8 AS estimated, coalesce(sum(unpriced_tokens), 0)::int8 AS unpriced
     FROM token_usage`,
  );
  const [s] = await db.query<{ cost_usd: number; cost_reported_usd: number }>(
    "SELECT cost_usd, cost_reported_usd FROM sessions WHERE id = 's1'",
  );
  return { ...t, session: s?.cost_usd ?? 0, sessionReported: s?.cost_reported_usd ?? 0 };
}

eachBackend("reported cost: an estimate first, then Claude Code's report replaces it", async ({ db }) => {
  const id = await runner(db);
  const estimate = costOf({ input: 1000, output: 100, cacheCreation: 0, cacheRead: 0 }, MODEL).usd;
  const d1 = await db.transaction((tx) => recordUsage(tx, id, [usage(1000, 100)]));
  assert(near(d1[0].costUsd, estimate), "the estimate is booked while nothing is reported");
  let r = await getRunner(db, id);
  assertEquals(r.cost.source, "estimated");

  const d2 = await db.transaction((tx) => recordReported(tx, id, "telemetry", [report("a", "cost", 0.0031)]));
  assert(near(d2[0].costUsd, 0.0031 - estimate), "the difference is booked (budgets see it)");
  r = await getRunner(db, id);
  assertEquals([r.cost.usd, r.cost.reportedUsd, r.cost.source], [0.0031, 0.0031, "claude-code"]);
  const s = await sums(db);
  assert(near(s.cost, 0.0031) && near(s.reported, 0.0031) && near(s.estimated, 0), JSON.stringify(s));
  assert(near(s.session, 0.0031) && near(s.sessionReported, 0.0031), "the session too");

  // More transcript tokens later: the cost stays Claude Code's own (no estimate added on top).
  await db.transaction((tx) => recordUsage(tx, id, [usage(2000, 150)]));
  assert(near((await sums(db)).cost, 0.0031), "covered by the report");
  await db.transaction((tx) => recordReported(tx, id, "telemetry", [report("a", "cost", 0.0052)]));
  assert(near((await sums(db)).cost, 0.0052), "the report grew");
});

eachBackend(
  "reported cost: repeats, older values and a second source of the same requests count once",
  async ({ db }) => {
    const id = await runner(db);
    const book = (source: "telemetry" | "result", values: ReportedPoint[]) =>
      db.transaction((tx) => recordReported(tx, id, source, values));
    await book("telemetry", [report("main", "cost", 0.004), report("side", "cost", 0.001)]);
    assert(near((await sums(db)).cost, 0.005), "series of one source add up");
    assertEquals(
      await book("telemetry", [report("main", "cost", 0.004)]),
      [],
      "a repeated export changes nothing",
    );
    assertEquals(
      await book("telemetry", [report("main", "cost", 0.002)]),
      [],
      "an older value changes nothing",
    );
    await book("result", [report("r", "cost", 0.005)]);
    assert(
      near((await sums(db)).cost, 0.005),
      "the result event reports the same requests: the larger source wins",
    );
    await book("result", [report("r", "cost", 0.0061)]);
    assert(near((await sums(db)).cost, 0.0061), "now the result event knows more");
    const [row] = await db.query<{ reported_input_tokens: number | null }>(
      "SELECT reported_input_tokens FROM runner_usage WHERE runner_id = $1",
      [id],
    );
    assertEquals(row.reported_input_tokens, null, "no token counter was reported");
  },
);

eachBackend(
  "reported cost: a model with no price is unpriced, not $0, until Claude Code reports it",
  async ({ db }) => {
    const id = await runner(db);
    await db.transaction((tx) => recordUsage(tx, id, [usage(500, 50, "local-llama")]));
    let r = await getRunner(db, id);
    assertEquals([r.cost.usd, r.cost.unpricedTokens, r.cost.source], [0, 550, "estimated"]);
    assertEquals((await sums(db)).unpriced, 550);
    await db.transaction((tx) =>
      recordReported(tx, id, "result", [report("x", "cost", 0.002, "local-llama")])
    );
    r = await getRunner(db, id);
    assertEquals([r.cost.usd, r.cost.unpricedTokens, r.cost.source], [0.002, 0, "claude-code"]);
    assertEquals((await sums(db)).unpriced, 0);
  },
);
