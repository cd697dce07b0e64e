/**
 * A route is declared once, with what the middleware needs to know about it: who may call it (auth), whether
 * it lives long (no request timeout, not waited for at shutdown) and whether a successful call is audited.
 * The middleware (daemon/app.ts, http/auth.ts) reads the declaration of the route a request matched, never
 * the path; daemon/routes/mod.ts lists every route, and docs/api.md's table is tested against it.
 */
import type { Context, Handler } from "hono";
import type { AppEnv } from "./types.ts";

export const METHODS = ["GET", "POST", "PUT", "PATCH", "DELETE"] as const;
export type Method = (typeof METHODS)[number];

/**
 * - `none`: anyone (health, the dashboard's page; the sign-in exchange, whose code is the credential);
 * - `admin`: the admin token, or a dashboard session (http/dashboard_sessions.ts);
 * - `admin-only`: the admin token alone (what decides the commands that run, budgets, new credentials);
 * - `runner`: only the own token of the runner the path's `:id` names (the agent's calls);
 * - `observer`: the observer token of `stratavore hooks install` (sessions Stratavore did not launch);
 * - `runner-or-observer`: a runner's token (it names the runner) or the observer token (telemetry).
 */
export const AUTHS = ["none", "admin", "admin-only", "runner", "observer", "runner-or-observer"] as const;
export type Auth = (typeof AUTHS)[number];

export interface RouteOptions {
  auth: Auth;
  /**
   * Long-lived (event streams, terminals, followed logs, hooks that wait for an answer): no request timeout,
   * and not waited for at shutdown (the daemon's shutdown signal ends them). A function for a route that is
   * long-lived only on request.
   */
  longLived?: true | ((c: Context<AppEnv>) => boolean);
  /**
   * Successful mutations are audited. `report`: a report (heartbeats, hooks, telemetry), not an action;
   * `own`: the handler writes its own, richer row.
   */
  audit?: "report" | "own";
  /**
   * Browsers cannot set headers on EventSource or WebSocket requests: such a GET may carry the token as
   * `?access_token=`. No other route reads it from the URL (where logs and history keep it).
   */
  urlToken?: true;
  /** `runner` auth may take a token check cached past its TTL (heartbeats: see AgentTokenCache.check). */
  staleTokenOk?: true;
}

export interface Route extends RouteOptions {
  method: Method;
  /** Hono's pattern, from the root (`/api/v1/runners/:id/heartbeat`). */
  path: string;
  handler: Handler<AppEnv>;
}

/** Collects a group's routes under a common prefix: `r.post("/:id/stop", { auth: "admin" }, handler)`. */
export class Routes {
  readonly list: Route[] = [];
  constructor(readonly prefix = "") {}

  get(path: string, opts: RouteOptions, handler: Handler<AppEnv>): this {
    return this.add("GET", path, opts, handler);
  }
  post(path: string, opts: RouteOptions, handler: Handler<AppEnv>): this {
    return this.add("POST", path, opts, handler);
  }
  put(path: string, opts: RouteOptions, handler: Handler<AppEnv>): this {
    return this.add("PUT", path, opts, handler);
  }
  patch(path: string, opts: RouteOptions, handler: Handler<AppEnv>): this {
    return this.add("PATCH", path, opts, handler);
  }
  delete(path: string, opts: RouteOptions, handler: Handler<AppEnv>): this {
    return this.add("DELETE", path, opts, handler);
  }

  add(method: Method, path: string, opts: RouteOptions, handler: Handler<AppEnv>): this {
    this.list.push({ ...opts, method, path: joinPath(this.prefix, path), handler });
    return this;
  }
}

/** `/projects` + `/` is `/projects` (as hono mounts a group's root). */
export function joinPath(prefix: string, path: string): string {
  if (path === "/" && prefix !== "") return prefix;
  return prefix + path;
}

/** Routes moved under a prefix (`/api/v1`). */
export function under(prefix: string, routes: Route[]): Route[] {
  return routes.map((r) => ({ ...r, path: joinPath(prefix, r.path) }));
}

/** Whether this request of a declared route is long-lived. */
export function isLongLived(route: Route | undefined, c: Context<AppEnv>): boolean {
  const l = route?.longLived;
  return l === true || (typeof l === "function" && l(c));
}

/** The value of the pattern's `:name` segment in the request's path (middleware runs before params are set). */
export function pathParam(route: Route, path: string, name: string): string | undefined {
  const pattern = route.path.split("/");
  const i = pattern.indexOf(`:${name}`);
  if (i < 0) return undefined;
  const parts = path.split("/");
  if (parts.length !== pattern.length) return undefined;
  try {
    return decodeURIComponent(parts[i]);
  } catch {
    return undefined; // refused by checkUrlText before any route sees it
  }
}
