/**
 * Bearer-token auth, as each route declares it (http/route.ts): admin endpoints take the admin token
 * ($STRATAVORE_HOME/api-token) or a dashboard session; the agent endpoints of runner N take only runner N's
 * own token. Comparisons are constant-time.
 */
import type { MiddlewareHandler } from "hono";
import { AppError } from "../../lib/errors.ts";
import type { Db } from "../../lib/db/types.ts";
import { type AgentTokenCache, safeEqual } from "../store/tokens.ts";
import { observerTokenId } from "../store/observed.ts";
import type { AppEnv } from "./types.ts";
import { bindingFrom, DASHBOARD_TOKEN_PREFIX, type DashboardSessions } from "./dashboard_sessions.ts";
import { type Auth, pathParam } from "./route.ts";
import { readParam } from "./body.ts";
import { runnerIdText } from "../../lib/schemas/common.ts";

export function bearer(header: string | undefined): string | undefined {
  const m = /^Bearer\s+(\S+)\s*$/i.exec(header ?? "");
  return m?.[1];
}

export interface AuthDeps {
  db: Db;
  adminToken: string;
  tokens: AgentTokenCache;
  dashboards?: DashboardSessions;
}

/**
 * Checks the caller against the auth its route declares (http/route.ts). A path no route matches is checked
 * as an admin call under /api/v1 (a caller without a token learns nothing of what exists) and not at all
 * elsewhere (the "no such endpoint" answer).
 */
export function authenticate(deps: AuthDeps): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    const route = c.get("route");
    const auth: Auth = route?.auth ?? (/^\/api\/v1(\/|$)/.test(c.req.path) ? "admin" : "none");
    if (auth === "none") return await next();
    const token = bearer(c.req.header("authorization")) ??
      (route?.urlToken && c.req.method === "GET" ? c.req.query("access_token") || undefined : undefined);
    if (!token) {
      throw new AppError(
        "unauthorized",
        "missing API token: send Authorization: Bearer <token> (the admin token is in $STRATAVORE_HOME/api-token)",
      );
    }
    if (auth === "runner-or-observer") {
      const owner = await deps.tokens.owner(deps.db, token);
      if (owner?.ended) throw runnerEnded(owner.runnerId);
      const runnerId = owner?.runnerId;
      const observer = runnerId === undefined ? await observerTokenId(deps.db, token) : undefined;
      if (runnerId !== undefined) c.set("actor", { kind: "runner", runnerId });
      else if (observer !== undefined) c.set("actor", { kind: "observer", tokenId: observer });
      else if (safeEqual(token, deps.adminToken)) {
        throw new AppError("forbidden", "telemetry is exported with a runner's token, not the admin token");
      } else throw new AppError("unauthorized", "invalid token for a telemetry export");
    } else if (auth === "observer") {
      const observer = await observerTokenId(deps.db, token);
      if (observer === undefined) {
        throw new AppError(
          "unauthorized",
          'invalid observer token: run "stratavore hooks install" again to renew the machine-wide hooks',
        );
      }
      c.set("actor", { kind: "observer", tokenId: observer });
    } else if (auth === "runner") {
      const runnerId = readParam("runner id", pathParam(route!, c.req.path, "id"), runnerIdText);
      const check = await deps.tokens.check(deps.db, runnerId, token, { staleOk: route!.staleTokenOk });
      if (check === "ok") {
        c.set("actor", { kind: "runner", runnerId });
      } else if (check === "ended") {
        throw runnerEnded(runnerId);
      } else if (check === "other_runner") {
        throw new AppError("forbidden", `this token belongs to another runner, not runner ${runnerId}`);
      } else if (safeEqual(token, deps.adminToken)) {
        throw new AppError("forbidden", "agent endpoints take the runner's own token, not the admin token");
      } else {
        throw new AppError("unauthorized", `invalid token for runner ${runnerId}`);
      }
    } else if (safeEqual(token, deps.adminToken)) {
      c.set("actor", { kind: "admin" });
    } else if (token.startsWith(DASHBOARD_TOKEN_PREFIX)) {
      if (!(await deps.dashboards?.check(token, bindingFrom(c.req.header("cookie"))))) {
        throw new AppError(
          "unauthorized",
          'this dashboard session has expired or was signed out (or is used from another browser): run "stratavore ui" to sign in again',
        );
      }
      if (auth === "admin-only") {
        throw new AppError(
          "forbidden",
          "the dashboard may not do this (projects, budgets, sign-in links, observer tokens, notifications, signing every dashboard out): use the CLI",
        );
      }
      c.set("actor", { kind: "dashboard" });
    } else if (await deps.tokens.owner(deps.db, token) !== undefined) {
      throw new AppError("forbidden", "a runner token can only call its own runner's agent endpoints");
    } else {
      throw new AppError("unauthorized", "invalid API token: use the one in $STRATAVORE_HOME/api-token");
    }
    await next();
  };
}

/** A runner's token after its runner ended (and the grace for its last report ran out). */
function runnerEnded(runnerId: number): AppError {
  return new AppError(
    "runner_ended",
    `runner ${runnerId} has ended: its token no longer works (a new launch gets a new one)`,
  );
}
