/** Hono environment shared by every route: who is calling, from where, and the route's declaration. */
import type { Route } from "./route.ts";

export type Actor =
  | { kind: "admin" }
  | { kind: "runner"; runnerId: number }
  /** The machine-wide hooks of `stratavore hooks install`: they may only report observed sessions. */
  | { kind: "observer"; tokenId: number }
  /** The web dashboard, signed in with a one-time link: the admin's powers minus a few (http/dashboard_sessions.ts). */
  | { kind: "dashboard" };

export interface AppEnv {
  Bindings: { remoteAddr?: Deno.Addr };
  /** `route`: the declared route the request matched (absent for a path no route serves). */
  Variables: { actor: Actor; route: Route | undefined };
}

export function actorName(a: Actor | undefined): string {
  if (!a) return "anonymous";
  return a.kind === "admin"
    ? "admin"
    : a.kind === "dashboard"
    ? "dashboard"
    : a.kind === "runner"
    ? `runner:${a.runnerId}`
    : `observer:${a.tokenId}`;
}
