/**
 * The HTTP API: hono app composed from routes/, with a request timeout, bearer auth, the audit log and one
 * error handler that answers every failure as `{"error":{"code","message","details"}}`.
 */
import { type Context, Hono, type MiddlewareHandler } from "hono";
import type { RequestDrain } from "./http/drain.ts";
import { AppError } from "../lib/errors.ts";
import { AGENT_PATH, authenticate, OBSERVED_HOOK_ROUTE, OTLP_EXPORT_PATH } from "./http/auth.ts";
import { actorName, type AppEnv } from "./http/types.ts";
import type { Services } from "./services.ts";
import { recordAudit } from "./store/audit.ts";
import { checkUrlText } from "./http/input.ts";
import { errorResponse } from "./http/errors.ts";
import { originAllowed } from "./http/host.ts";
import { healthRoutes, statusRoutes } from "./routes/health.ts";
import { projectRoutes } from "./routes/projects.ts";
import { type RunnerRouteHooks, runnerRoutes } from "./routes/runners.ts";
import { type AgentRouteHooks, agentRoutes } from "./routes/agent.ts";
import { worktreeRoutes } from "./routes/worktrees.ts";

export interface AppExtensions {
  runners?: RunnerRouteHooks;
  agent?: AgentRouteHooks;
  /** Further route groups mounted under /api/v1 (events, budgets, sessions…), added by later modules. */
  mount?: (api: Hono<AppEnv>) => void;
  /** Routes outside /api/v1 that do their own auth (web UI). */
  mountRoot?: (app: Hono<AppEnv>) => void;
  /** Observes every finished request (metrics). */
  onRequest?: (route: string, method: string, status: number, seconds: number) => void;
  /** Counts requests in flight so shutdown can let them finish (daemon/http/drain.ts). */
  drain?: RequestDrain;
}

/**
 * Long-lived responses (event streams, terminals, followed logs, WebSocket upgrades): not subject to the
 * request timeout, and not waited for at shutdown (the daemon's shutdown signal ends them).
 */
function isLongLived(c: Context<AppEnv>): boolean {
  const path = c.req.path;
  // A runner's hooks: a PermissionRequest may wait minutes for an answer from elsewhere.
  return /\/(events|attach|pty|link|claude-hook)$/.test(path) ||
    (/\/logs$/.test(path) && /^(true|1)$/.test(c.req.query("follow") ?? "")) ||
    Boolean(c.req.header("upgrade"));
}

function timeout(ms: number): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    if (isLongLived(c)) return await next();
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

/** Successful mutations are audited; heartbeats and telemetry exports are reports, not actions: left out. */
function audit(s: Services): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    await next();
    if (!MUTATING.has(c.req.method) || c.res.status >= 400) return;
    const agent = AGENT_PATH.exec(c.req.path);
    // Reports (heartbeats, hooks, telemetry) are not actions; permission answers write their own, richer row.
    if (
      agent?.[2] === "heartbeat" || agent?.[2] === "claude-hook" || agent?.[2] === "limits" ||
      agent?.[2] === "worktree" || OTLP_EXPORT_PATH.test(c.req.path) || OBSERVED_HOOK_ROUTE.test(c.req.path)
    ) {
      return;
    }
    if (/\/permission$/.test(c.req.path)) return;
    const remote = c.env?.remoteAddr;
    try {
      await recordAudit(s.db, {
        actor: actorName(c.get("actor")),
        action: `${c.req.method} ${c.req.routePath}`,
        target: c.req.path,
        details: { status: c.res.status },
        remoteAddr: remote && "hostname" in remote ? remote.hostname : null,
      });
    } catch (e) {
      s.log.warn("could not write the audit log", { error: e as Error, path: c.req.path });
    }
  };
}

export function buildApp(s: Services, ext: AppExtensions = {}): Hono<AppEnv> {
  const app = new Hono<AppEnv>();

  if (ext.drain) app.use(ext.drain.middleware(isLongLived));
  if (ext.onRequest) {
    const observe = ext.onRequest;
    app.use(async (c, next) => {
      const start = performance.now();
      await next();
      observe(c.req.routePath, c.req.method, c.res.status, (performance.now() - start) / 1000);
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
  app.route("/", healthRoutes(s));

  const api = new Hono<AppEnv>();
  api.use(timeout(s.config.requestTimeout));
  api.use(authenticate(s));
  api.use(audit(s));
  api.route("/status", statusRoutes(s));
  api.route("/projects", projectRoutes(s));
  api.route("/runners", agentRoutes(s, ext.agent));
  api.route("/runners", runnerRoutes(s, ext.runners));
  api.route("/", worktreeRoutes(s));
  ext.mount?.(api);
  app.route("/api/v1", api);
  // The sign-in exchange lives outside /api/v1 but reads a body from anyone: it gets the same time limit.
  app.use("/ui/exchange", timeout(s.config.requestTimeout));
  ext.mountRoot?.(app);

  app.notFound((c) =>
    c.json({ error: { code: "not_found", message: `no such endpoint: ${c.req.method} ${c.req.path}` } }, 404)
  );

  app.onError((err, c) => errorResponse(s.log, err, c.req.method, c.req.path));

  return app;
}
