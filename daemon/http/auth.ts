/**
 * Bearer-token auth. Admin endpoints take the admin token ($STRATAVORE_HOME/api-token); the agent
 * endpoints of runner N take only runner N's own token. Comparisons are constant-time.
 */
import type { MiddlewareHandler } from "hono";
import { AppError } from "../../lib/errors.ts";
import type { Db } from "../../lib/db/types.ts";
import { type AgentTokenCache, safeEqual } from "../store/tokens.ts";
import { observerTokenId } from "../store/observed.ts";
import type { AppEnv } from "./types.ts";
import {
  bindingFrom,
  DASHBOARD_TOKEN_PREFIX,
  type DashboardSessions,
  outOfDashboardScope,
} from "./dashboard_sessions.ts";

/** Paths an agent calls with its runner token. */
export const AGENT_PATH =
  /^\/api\/v1\/runners\/(\d{1,15})\/(heartbeat|started|exited|claude-hook|usage|pty|link|transcript|limits|worktree)$/;

/** Observed sessions' hooks: the observer token of `stratavore hooks install`. */
export const OBSERVED_HOOK_ROUTE = /^\/api\/v1\/observed\/(claude-hook|limits)$/;

/** The OTLP receiver: a runner's session exports its telemetry with the runner's token. */
export const OTLP_EXPORT_PATH = /^\/api\/v1\/otlp\/v1\/(metrics|logs)$/;

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

export function authenticate(deps: AuthDeps): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    const token = bearer(c.req.header("authorization")) ?? queryToken(c.req.method, c.req.url);
    if (!token) {
      throw new AppError(
        "unauthorized",
        "missing API token: send Authorization: Bearer <token> (the admin token is in $STRATAVORE_HOME/api-token)",
      );
    }
    const agent = AGENT_PATH.exec(c.req.path);
    if (OTLP_EXPORT_PATH.test(c.req.path)) {
      const owner = await deps.tokens.owner(deps.db, token);
      if (owner?.ended) throw runnerEnded(owner.runnerId);
      const runnerId = owner?.runnerId;
      const observer = runnerId === undefined ? await observerTokenId(deps.db, token) : undefined;
      if (runnerId !== undefined) c.set("actor", { kind: "runner", runnerId });
      else if (observer !== undefined) c.set("actor", { kind: "observer", tokenId: observer });
      else if (safeEqual(token, deps.adminToken)) {
        throw new AppError("forbidden", "telemetry is exported with a runner's token, not the admin token");
      } else throw new AppError("unauthorized", "invalid token for a telemetry export");
    } else if (OBSERVED_HOOK_ROUTE.test(c.req.path)) {
      const observer = await observerTokenId(deps.db, token);
      if (observer === undefined) {
        throw new AppError(
          "unauthorized",
          'invalid observer token: run "stratavore hooks install" again to renew the machine-wide hooks',
        );
      }
      c.set("actor", { kind: "observer", tokenId: observer });
    } else if (agent) {
      const runnerId = Number(agent[1]);
      const check = await deps.tokens.check(deps.db, runnerId, token, { staleOk: agent[2] === "heartbeat" });
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
      if (outOfDashboardScope(c.req.method, c.req.path)) {
        throw new AppError(
          "forbidden",
          "the dashboard may not do this (projects, budgets, sign-in links, observer tokens): use the CLI",
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

/**
 * Browsers cannot set headers on EventSource or WebSocket requests, so exactly those routes (GET of the
 * event stream, a runner's attach and terminal sockets) may carry the token as `?access_token=`; no other
 * path, and no mutating method, reads it from the URL (where logs and history keep it).
 */
const URL_TOKEN_ROUTE = /^\/api\/v1\/(events|runners\/\d{1,15}\/(attach|pty))$/;

function queryToken(method: string, url: string): string | undefined {
  if (method !== "GET") return undefined;
  const u = new URL(url);
  const t = u.searchParams.get("access_token");
  return t && URL_TOKEN_ROUTE.test(u.pathname) ? t : undefined;
}
