/** Liveness and readiness (no auth), and the status summary (admin). */
import { Hono } from "hono";
import type { AppEnv } from "../http/types.ts";
import type { Services } from "../services.ts";
import { RUNNER_STATES, type RunnerState } from "../../lib/schemas/runner.ts";
import type { Status } from "../../lib/schemas/status.ts";
import { VERSION } from "../../lib/version.ts";
import { listLimits } from "../store/limits.ts";

export function healthRoutes(s: Services): Hono<AppEnv> {
  const app = new Hono<AppEnv>();
  app.get("/healthz", (c) => c.json({ ok: true, version: VERSION }));
  app.get("/readyz", async (c) => {
    try {
      await s.db.query("SELECT 1");
      return c.json({ ok: true, database: s.db.kind });
    } catch (e) {
      return c.json({
        error: { code: "not_ready", message: `database does not answer: ${(e as Error).message}` },
      }, 503);
    }
  });
  return app;
}

export async function readStatus(s: Services): Promise<Status> {
  const counts = await s.db.query<{ state: RunnerState; n: number }>(
    "SELECT state, count(*)::int AS n FROM runners GROUP BY state",
  );
  const [{ n: projects }] = await s.db.query<{ n: number }>("SELECT count(*)::int AS n FROM projects");
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

export function statusRoutes(s: Services): Hono<AppEnv> {
  const app = new Hono<AppEnv>();
  app.get("/", async (c) => c.json(await readStatus(s)));
  return app;
}
