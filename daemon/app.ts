/**
 * The HTTP surface: every route of daemon/routes/mod.ts mounted on one hono app, behind the middleware that
 * reads each route's declaration (http/route.ts): the request timeout, auth, the audit log, the shutdown
 * drain, and one error handler that answers every failure as `{"error":{"code","message","details"}}`.
 */
import { type Context, type Handler, Hono, type MiddlewareHandler } from "hono";
import type { RequestDrain } from "./http/drain.ts";
import { matchedRoutes } from "hono/route";
import { AppError } from "../lib/errors.ts";
import { authenticate } from "./http/auth.ts";
import { actorName, type AppEnv } from "./http/types.ts";
import type { Services } from "./services.ts";
import { recordAudit } from "./store/audit.ts";
import { checkUrlText } from "./http/input.ts";
import { errorResponse } from "./http/errors.ts";
import { INSTALLATION_HEADER } from "../lib/runner_client.ts";
import { originAllowed } from "./http/host.ts";
import { isLongLived, type Route } from "./http/route.ts";

export interface AppExtensions {
  /** Observes every finished request (metrics). */
  onRequest?: (route: string, method: string, status: number, seconds: number) => void;
  /** Counts requests in flight so shutdown can let them finish (daemon/http/drain.ts). */
  drain?: RequestDrain;
}

/** Long-lived as its route declares, and every WebSocket upgrade. */
function longLived(c: Context<AppEnv>): boolean {
  return isLongLived(c.get("route"), c) || Boolean(c.req.header("upgrade"));
}

function timeout(ms: number): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    if (longLived(c)) return await next();
    let timer: ReturnType<typeof setTimeout> | undefined;
    const limit = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () =>
          reject(
            new AppError("timeout", `request took longer than ${Math.round(ms / 1000)}s and was abandoned`),
          ),
        ms,
      );
    });
    try {
      await Promise.race([next(), limit]);
    } finally {
      clearTimeout(timer);
    }
  };
}

const MUTATING = new Set(["POST", "PUT", "PATCH", "DELETE"]);

/** Successful mutations are audited, but for what their route declares a report or audits itself. */
function audit(s: Services): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    await next();
    const route = c.get("route");
    if (!route || route.audit || !MUTATING.has(c.req.method) || c.res.status >= 400) return;
    const remote = c.env?.remoteAddr;
    try {
      await recordAudit(s.db, {
        actor: actorName(c.get("actor")),
        action: `${c.req.method} ${route.path}`,
        target: c.req.path,
        details: { status: c.res.status },
        remoteAddr: remote && "hostname" in remote ? remote.hostname : null,
      });
    } catch (e) {
      s.log.warn("could not write the audit log", { error: e as Error, path: c.req.path });
    }
  };
}

export function buildApp(s: Services, routes: Route[], ext: AppExtensions = {}): Hono<AppEnv> {
  const app = new Hono<AppEnv>();
  // Each route's own handler (a wrapper: one function may serve several routes) finds its declaration.
  const declared = new Map<Handler<AppEnv>, Route>();

  // Every answer, a refusal included, says which installation gave it (lib/runner_client.ts).
  app.use(async (c, next) => {
    await next();
    try {
      c.res.headers.set(INSTALLATION_HEADER, s.installation);
    } catch { /* a WebSocket upgrade's headers are fixed */ }
  });
  app.use(async (c, next) => {
    let route: Route | undefined;
    for (const m of matchedRoutes(c)) if ((route = declared.get(m.handler as Handler<AppEnv>))) break;
    c.set("route", route);
    await next();
  });
  if (ext.drain) app.use(ext.drain.middleware(longLived));
  if (ext.onRequest) {
    const observe = ext.onRequest;
    app.use(async (c, next) => {
      const start = performance.now();
      await next();
      // The route's pattern, never the raw path (a path no route serves: hono's pattern of the last match).
      const pattern = c.get("route")?.path ?? c.req.routePath;
      observe(pattern, c.req.method, c.res.status, (performance.now() - start) / 1000);
    });
  }

  app.use(checkUrlText());
  // Browsers let any page open a WebSocket anywhere (no CORS applies): one from another site's page is
  // refused before auth or any route sees it (a query token must not be usable cross-site).
  app.use(async (c, next) => {
    if (c.req.header("upgrade") && !originAllowed(c.req.raw, s.config.allowedHosts)) {
      throw new AppError(
        "forbidden",
        "WebSocket connections are accepted only from the dashboard's own pages",
      );
    }
    await next();
  });
  app.use(timeout(s.config.requestTimeout));
  app.use(authenticate(s));
  app.use(audit(s));
  for (const route of routes) {
    const handler: Handler<AppEnv> = (c, next) => route.handler(c, next);
    declared.set(handler, route);
    app.on(route.method, route.path, handler);
  }

  app.notFound((c) =>
    c.json({ error: { code: "not_found", message: `no such endpoint: ${c.req.method} ${c.req.path}` } }, 404)
  );

  app.onError((err, c) => errorResponse(s.log, err, c.req.method, c.req.path));

  return app;
}
