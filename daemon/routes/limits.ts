/**
 * Subscription limits:
 * - `POST /api/v1/runners/:id/limits` (the runner's token): the agent (a headless run's stream) and the
 *   statusline command of a runner's session report the windows;
 * - `POST /api/v1/observed/limits` (the observer token): sessions Stratavore did not launch;
 * - `GET /api/v1/limits` (admin): every account's windows; `GET /api/v1/limits/history`: samples for charts.
 */
import { z } from "zod";
import { runnerIdText } from "../../lib/schemas/common.ts";
import { limitsReport, limitWindowName } from "../../lib/schemas/limits.ts";
import { readBody, readParam } from "../http/body.ts";
import { type Route, Routes } from "../http/route.ts";
import type { Services } from "../services.ts";
import { limitHistory, listLimits, markLimitedByHook, type Recorded, recordLimits } from "../store/limits.ts";
import { activeObservedRunner, getRunner } from "../store/runners.ts";
import { isLimitError } from "../../lib/claude/limits.ts";
import type { Queryable } from "../../lib/db/types.ts";
import type { Runner } from "../../lib/schemas/runner.ts";
import { listQueue } from "../limits.ts";

/**
 * A turn refused for the limit can be told (StopFailure) before any figures came (the first request was the
 * refused one): once they come, the runner is marked limited until its account's window resets.
 */
async function limitedByEarlierHook(tx: Queryable, runner: Runner, r: Recorded): Promise<void> {
  if (r.limitedUntil || runner.activity !== "error" || !isLimitError(runner.activityDetail)) return;
  if (runner.limitedUntil && Date.parse(runner.limitedUntil) > Date.now()) return;
  await markLimitedByHook(tx, runner.id);
}

export function runnerLimitRoutes(s: Services): Route[] {
  const app = new Routes("/runners");
  app.post("/:id/limits", { auth: "runner", audit: "report" }, async (c) => {
    const id = readParam("runner id", c.req.param("id"), runnerIdText);
    const report = await readBody(c, limitsReport);
    const recorded = await s.db.transaction(async (tx) => {
      const runner = await getRunner(tx, id); // 404 for a runner that is gone
      const r = await recordLimits(tx, report, { runnerId: id, thresholds: s.config.limitAlerts });
      await limitedByEarlierHook(tx, runner, r);
      return r;
    });
    return c.json({ ...recorded, limitedUntil: recorded.limitedUntil?.toISOString() ?? null });
  });
  return app.list;
}

/** Reports of sessions Stratavore did not launch: booked on the account, no runner marked. */
export function observedLimitRoutes(s: Services): Route[] {
  const app = new Routes("/observed");
  app.post("/limits", { auth: "observer", audit: "report" }, async (c) => {
    // A session a runner started reports through its runner already.
    if ((c.req.header("x-stratavore-runner") ?? "").trim() !== "") return c.json({ warnings: 0 });
    const report = await readBody(c, limitsReport);
    const recorded = await s.db.transaction(async (tx) => {
      // The observed runner of the session, if its hooks made one: it is then marked limited as well.
      const runnerId = report.sessionId ? await activeObservedRunner(tx, report.sessionId) : undefined;
      const r = await recordLimits(tx, report, { runnerId, thresholds: s.config.limitAlerts });
      if (runnerId !== undefined) await limitedByEarlierHook(tx, await getRunner(tx, runnerId), r);
      return r;
    });
    return c.json({ ...recorded, limitedUntil: recorded.limitedUntil?.toISOString() ?? null });
  });
  return app.list;
}

const sinceText = z.string().regex(/^\d{1,4}[hd]$/, 'expected a span such as "6h" or "7d"').optional();

export function limitRoutes(s: Services): Route[] {
  const app = new Routes("/limits");
  app.get("/", { auth: "admin" }, async (c) => {
    return c.json({
      accounts: await listLimits(s.db),
      thresholds: s.config.limitAlerts,
      policy: s.config.limitPolicy,
      threshold: s.config.limitThreshold,
      resume: s.config.limitResume,
      queue: await listQueue(s.db),
    });
  });
  app.get("/history", { auth: "admin" }, async (c) => {
    const account = readParam("account", c.req.query("account"), z.string().min(1).max(4200));
    const window = readParam("window", c.req.query("window") ?? "five_hour", limitWindowName);
    const since = readParam("since", c.req.query("since"), sinceText) ?? "24h";
    const ms = Number(since.slice(0, -1)) * (since.endsWith("d") ? 86_400_000 : 3_600_000);
    return c.json({ account, window, samples: await limitHistory(s.db, account, window, Date.now() - ms) });
  });
  return app.list;
}
