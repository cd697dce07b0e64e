/** Liveness and readiness (no auth), and the status summary (admin). */
import { type Route, Routes } from "../http/route.ts";
import type { Services } from "../services.ts";
import { RUNNER_STATES, type RunnerState } from "../../lib/schemas/runner.ts";
import type { Status } from "../../lib/schemas/status.ts";
import { VERSION } from "../../lib/version.ts";
import { listLimits } from "../store/limits.ts";
import { ping } from "../store/daemons.ts";
import { fleetCounts } from "../store/runners.ts";

export function healthRoutes(s: Services): Route[] {
  const r = new Routes();
  r.get("/healthz", { auth: "none" }, (c) => c.json({ ok: true, version: VERSION }));
  r.get("/readyz", { auth: "none" }, async (c) => {
    try {
      await ping(s.db);
      return c.json({ ok: true, database: s.db.kind });
    } catch (e) {
      return c.json({
        error: { code: "not_ready", message: `database does not answer: ${(e as Error).message}` },
      }, 503);
    }
  });
  return r.list;
}

export async function readStatus(s: Services): Promise<Status> {
  const { byState: counts, projects } = await fleetCounts(s.db);
  const runners = Object.fromEntries(RUNNER_STATES.map((st) => [st, 0])) as Record<RunnerState, number>;
  for (const r of counts) runners[r.state] = r.n;
  return {
    version: VERSION,
    daemonId: s.daemonId,
    startedAt: s.startedAt.toISOString(),
    uptimeSeconds: Math.round((Date.now() - s.startedAt.getTime()) / 1000),
    url: s.url,
    home: s.config.home,
    database: { kind: s.db.kind, location: s.db.location },
    broker: s.broker,
    runners,
    projects,
    limits: (await listLimits(s.db)).flatMap((a) =>
      a.windows.map((w) => ({
        account: a.key,
        label: a.label,
        window: w.window,
        percent: w.percent,
        resetsAt: w.resetsAt,
        limited: w.limited,
      }))
    ),
  };
}

export function statusRoutes(s: Services): Route[] {
  return new Routes("/status").get("/", { auth: "admin" }, async (c) => c.json(await readStatus(s))).list;
}
