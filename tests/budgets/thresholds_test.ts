/** Budget accounting with an injected clock, in-process on both backends. */
import { assert, assertEquals, assertMatch, assertRejects } from "../helpers/assert.ts";
import { eachBackend } from "../helpers/db.ts";
import type { Db } from "../../lib/db/types.ts";
import { AppError } from "../../lib/errors.ts";
import { createProject } from "../../daemon/store/projects.ts";
import { launchRunner, transition } from "../../daemon/store/runners.ts";
import { putBudget, toBudget } from "../../daemon/store/budgets.ts";
import { admitLaunch, recordBudgetUsage } from "../../daemon/store/budget_enforce.ts";
import type { UsageDelta } from "../../daemon/store/usage.ts";

async function setup(db: Db) {
  await db.transaction((tx) => createProject(tx, { name: "api", path: "/tmp", maxRunners: 50 }));
  const [{ id: projectId }] = await db.query<{ id: number }>("SELECT id FROM projects WHERE name = 'api'");
  const { runner } = await db.transaction((tx) => launchRunner(tx, { project: "api" }));
  await db.transaction((tx) => transition(tx, runner.id, "running", { pid: 1 }));
  return { projectId, runnerId: runner.id };
}

function delta(ids: { projectId: number; runnerId: number }, tokens: number): UsageDelta {
  return {
    ...ids,
    sessionId: "s",
    model: "m",
    input: tokens,
    output: 0,
    cacheCreation: 0,
    cacheCreation1h: 0,
    cacheRead: 0,
    messages: 1,
    costUsd: 0,
  };
}

async function eventsOf(db: Db, type: string): Promise<Record<string, unknown>[]> {
  const rows = await db.query<{ payload: Record<string, unknown> }>(
    "SELECT payload FROM outbox WHERE type = $1 ORDER BY id",
    [type],
  );
  return rows.map((r) => r.payload);
}

const NOV_10 = Date.parse("2026-11-10T12:00:00Z");
const NOV_20 = Date.parse("2026-11-20T12:00:00Z");
const DEC_02 = Date.parse("2026-12-02T12:00:00Z");

eachBackend("budgets: each threshold fires once per period; a new period re-arms them", async ({ db }) => {
  const ids = await setup(db);
  await db.transaction((tx) =>
    putBudget(tx, "project", "api", { tokens: 1000, period: "month", warnAt: [50, 80, 95] }, {
      timezone: "UTC",
      now: NOV_10,
    })
  );
  const book = (tokens: number, at: number) =>
    db.transaction((tx) => recordBudgetUsage(tx, [delta(ids, tokens)], at));
  await book(400, NOV_10);
  assertEquals(await eventsOf(db, "budget.warning"), []);
  await book(150, NOV_10); // 55 %
  await book(10, NOV_10); // 56 %: 50 already announced
  assertEquals((await eventsOf(db, "budget.warning")).map((p) => p.threshold), [50]);
  await book(400, NOV_20); // 96 %: crosses 80 and 95 at once, each announced
  const warnings = await eventsOf(db, "budget.warning");
  assertEquals(warnings.map((p) => p.threshold), [50, 80, 95]);
  assertMatch(
    String(warnings[2].message),
    /budget project\/api reached 95%: 960 of 1,000 tokens this month; resets 2026-12-01 00:00 UTC/,
  );
  await book(100, NOV_20); // 106 %
  await book(100, NOV_20);
  const exceeded = await eventsOf(db, "budget.exceeded");
  assertEquals(exceeded.length, 1, "exceeded once");
  assertEquals((await eventsOf(db, "budget.warning")).length, 3, "no repeats");
  // December: a fresh period, thresholds armed again.
  await book(600, DEC_02);
  assertEquals((await eventsOf(db, "budget.warning")).map((p) => p.threshold), [50, 80, 95, 50]);
  const [b] = await db.query<{ id: number }>("SELECT id FROM budgets");
  const rows = await db.query<{ tokens: number }>(
    "SELECT tokens FROM budget_usage WHERE budget_id = $1 ORDER BY period_start",
    [
      b.id,
    ],
  );
  assertEquals(rows.map((r) => r.tokens), [1160, 600]);
});

eachBackend(
  "budgets: an exhausted budget refuses launches, naming the budget, its use and its reset",
  async ({ db }) => {
    const ids = await setup(db);
    await db.transaction((tx) =>
      putBudget(tx, "global", "", { tokens: 500, period: "day", timezone: "Europe/Berlin" }, {
        timezone: "UTC",
        now: NOV_10,
      })
    );
    await db.transaction((tx) => admitLaunch(tx, { id: ids.projectId, name: "api" }, NOV_10));
    await db.transaction((tx) => recordBudgetUsage(tx, [delta(ids, 500)], NOV_10));
    const e = await assertRejects(
      () => db.transaction((tx) => admitLaunch(tx, { id: ids.projectId, name: "api" }, NOV_10)),
      AppError,
    );
    assertEquals([e.code, e.status], ["budget_exceeded", 429]);
    assertMatch(
      e.message,
      /budget global is exhausted: 500 of 500 tokens this day; resets 2026-11-11 00:00 Europe\/Berlin/,
    );
    // The next local day starts a new period: admitted again.
    await db.transaction((tx) =>
      admitLaunch(tx, { id: ids.projectId, name: "api" }, Date.parse("2026-11-10T23:30:00Z"))
    );
  },
);

eachBackend(
  "budgets: policy stop asks the budget's running runners to stop when it is exhausted",
  async ({ db }) => {
    const ids = await setup(db);
    const { runner: other } = await db.transaction((tx) => launchRunner(tx, { project: "api" }));
    await db.transaction((tx) =>
      putBudget(tx, "project", "api", { tokens: 100, policy: "stop", period: "none" }, {
        timezone: "UTC",
        now: NOV_10,
      })
    );
    await db.transaction((tx) => recordBudgetUsage(tx, [delta(ids, 150)], NOV_10));
    const states = await db.query<{ id: number; state: string; reason: string }>(
      "SELECT id, state, reason FROM runners ORDER BY id",
    );
    assertEquals(states.map((r) => [r.id, r.state]), [[ids.runnerId, "stopping"], [other.id, "stopping"]]);
    assertEquals(states[0].reason, "budget project/api exhausted");
    const [ex] = await eventsOf(db, "budget.exceeded");
    assertEquals(ex.stoppedRunners, [ids.runnerId, other.id]);
    const b = await toBudget(db, (await db.query("SELECT * FROM budgets"))[0] as never, NOV_10);
    assertEquals([b.usage.state, b.usage.percent, b.usage.resetsAt], ["exceeded", 150, null]);
  },
);

eachBackend("budgets: reservations admit only the launches that fit", async ({ db }) => {
  const ids = await setup(db); // one runner already running
  await db.transaction((tx) =>
    putBudget(tx, "project", "api", { tokens: 1000, reserveTokens: 300 }, { timezone: "UTC", now: NOV_10 })
  );
  // used 0 + 1 running × 300 + 300 ≤ 1000; then 2 × 300 + 300 ≤ 1000; then 3 × 300 + 300 > 1000
  await db.transaction((tx) =>
    launchRunner(tx, { project: "api" }, { admit: (t, p) => admitLaunch(t, p, NOV_10) })
  );
  await db.transaction((tx) =>
    launchRunner(tx, { project: "api" }, { admit: (t, p) => admitLaunch(t, p, NOV_10) })
  );
  const e = await assertRejects(
    () =>
      db.transaction((tx) =>
        launchRunner(tx, { project: "api" }, { admit: (t, p) => admitLaunch(t, p, NOV_10) })
      ),
    AppError,
  );
  assertMatch(e.message, /no room for another runner: 0 used \+ 3 running × 300 reserved of 1,000 tokens/);
  assert(ids.runnerId > 0);
});
