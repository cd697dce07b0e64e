/**
 * Dashboard sessions: what a one-time sign-in code is exchanged for, instead of the admin token itself.
 * A session is scoped (it cannot mint sign-in links or observer tokens, create or change projects, which
 * decide what commands run, or change budgets), expires (12 hours), can be revoked (signing out, or the
 * admin revoking all), and is bound to the browser that redeemed the code: it works only together with an
 * HttpOnly, SameSite=Strict cookie set by the exchange, so the token alone (in a WebSocket URL, a log, a
 * screenshot) is useless. Kept in this daemon's memory as hashes: a restart signs dashboards out.
 */
import { createHash } from "node:crypto";
import { base64url } from "../../lib/home.ts";
import { safeEqual } from "../store/tokens.ts";

export const DASHBOARD_SESSION_TTL_MS = 12 * 60 * 60_000;
export const DASHBOARD_TOKEN_PREFIX = "svd_";
export const BINDING_COOKIE = "stratavore_binding";
const MAX_SESSIONS = 256;

const hash = (s: string) => createHash("sha256").update(s).digest("hex");

interface Entry {
  bindingHash: string;
  expiresAt: number;
}

export class DashboardSessions {
  readonly #byHash = new Map<string, Entry>();
  constructor(readonly ttlMs = DASHBOARD_SESSION_TTL_MS, readonly now: () => number = Date.now) {}

  create(): { token: string; binding: string; expiresAt: number } {
    this.#sweep();
    while (this.#byHash.size >= MAX_SESSIONS) this.#byHash.delete(this.#byHash.keys().next().value!);
    const token = DASHBOARD_TOKEN_PREFIX + base64url(crypto.getRandomValues(new Uint8Array(32)));
    const binding = base64url(crypto.getRandomValues(new Uint8Array(32)));
    const expiresAt = this.now() + this.ttlMs;
    this.#byHash.set(hash(token), { bindingHash: hash(binding), expiresAt });
    return { token, binding, expiresAt };
  }

  /** Whether the token is a live session and `binding` (the browser's cookie) is its own. */
  check(token: string, binding: string | undefined): boolean {
    const e = this.#byHash.get(hash(token));
    if (!e || e.expiresAt <= this.now()) return false;
    return binding !== undefined && safeEqual(e.bindingHash, hash(binding));
  }

  revoke(token: string): boolean {
    return this.#byHash.delete(hash(token));
  }

  revokeAll(): number {
    const n = this.#byHash.size;
    this.#byHash.clear();
    return n;
  }

  #sweep(): void {
    const now = this.now();
    for (const [k, e] of this.#byHash) if (e.expiresAt <= now) this.#byHash.delete(k);
  }
}

/** What a dashboard session may not do: what only the admin token (or the CLI) should. */
export function outOfDashboardScope(method: string, path: string): boolean {
  if (method === "GET" || method === "HEAD") return false;
  return /^\/api\/v1\/(ui\/links|observed\/tokens|projects|budgets|notify)(\/|$)/.test(path);
}

/** The binding cookie's value from a Cookie header. */
export function bindingFrom(cookieHeader: string | undefined): string | undefined {
  for (const part of (cookieHeader ?? "").split(";")) {
    const [k, ...v] = part.trim().split("=");
    if (k === BINDING_COOKIE) return v.join("=");
  }
  return undefined;
}

export function bindingCookie(binding: string, maxAgeS: number): string {
  return `${BINDING_COOKIE}=${binding}; HttpOnly; SameSite=Strict; Path=/; Max-Age=${maxAgeS}`;
}
