/** Hono environment shared by every route: who is calling, and from where. */
export type Actor =
  | { kind: "admin" }
  | { kind: "runner"; runnerId: number }
  /** The machine-wide hooks of `stratavore hooks install`: they may only report observed sessions. */
  | { kind: "observer"; tokenId: number }
  /** The web dashboard, signed in with a one-time link: the admin's powers minus a few (http/dashboard_sessions.ts). */
  | { kind: "dashboard" };

export interface AppEnv {
  Bindings: { remoteAddr?: Deno.Addr };
  Variables: { actor: Actor };
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
