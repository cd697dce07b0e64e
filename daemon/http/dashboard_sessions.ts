/**
 * Dashboard sessions: what a one-time sign-in code is exchanged for, instead of the admin token itself.
 * A session is scoped (it cannot mint sign-in links or observer tokens, create or change projects, which
 * decide what commands run, or change budgets), expires (12 hours), can be revoked (signing out, or the
 * admin revoking all), and is bound to the browser that redeemed the code: it works only together with an
 * HttpOnly, SameSite=Strict cookie set by the exchange, so the token alone (in a WebSocket URL, a log, a
 * screenshot) is useless. Kept in the database as hashes, so a restart signs no one out and every daemon
 * on a shared database knows them; a check is cached for a few seconds (a sign-out elsewhere takes that
 * long to reach this daemon). One browser keeps one binding: a second sign-in in it (another tab) is bound
 * to the same cookie, so it does not sign the first tab out.
 */
import { createHash } from "node:crypto";
import { base64url } from "../../lib/home.ts";
import type { Queryable } from "../../lib/db/types.ts";
import { safeEqual } from "../store/tokens.ts";

export const DASHBOARD_SESSION_TTL_MS = 12 * 60 * 60_000;
export const DASHBOARD_TOKEN_PREFIX = "svd_";
export const BINDING_COOKIE = "stratavore_binding";
const MAX_SESSIONS = 256;

const hash = (s: string) => createHash("sha256").update(s).digest("hex");
/** How long a check's answer is reused before the database is asked again. */
const CHECK_CACHE_MS = 5000;
const BINDING = /^[A-Za-z0-9_-]{43}$/;

interface Entry {
  bindingHash: string;
  expiresAt: number;
  readAt: number;
}

export class DashboardSessions {
  readonly #cache = new Map<string, Entry>();
  constructor(
    readonly db: Queryable,
    readonly ttlMs = DASHBOARD_SESSION_TTL_MS,
    readonly now: () => number = Date.now,
  ) {}

  /** A new session; bound to `binding` (the browser's cookie from an earlier sign-in) when it has one. */
  async create(binding?: string): Promise<{ token: string; binding: string; expiresAt: number }> {
    const now = this.now();
    await this.db.query(`DELETE FROM dashboard_sessions WHERE expires_at <= $1`, [new Date(now)]);
    await this.db.query(
      `DELETE FROM dashboard_sessions WHERE token_hash IN
         (SELECT token_hash FROM dashboard_sessions ORDER BY created_at DESC OFFSET $1)`,
      [MAX_SESSIONS - 1],
    );
    const token = DASHBOARD_TOKEN_PREFIX + base64url(crypto.getRandomValues(new Uint8Array(32)));
    const bound = binding && BINDING.test(binding)
      ? binding
      : base64url(crypto.getRandomValues(new Uint8Array(32)));
    const expiresAt = now + this.ttlMs;
    await this.db.query(
      `INSERT INTO dashboard_sessions (token_hash, binding_hash, created_at, expires_at) VALUES ($1, $2, $3, $4)`,
      [hash(token), hash(bound), new Date(now), new Date(expiresAt)],
    );
    return { token, binding: bound, expiresAt };
  }

  /** Whether the token is a live session and `binding` (the browser's cookie) is its own. */
  async check(token: string, binding: string | undefined): Promise<boolean> {
    const key = hash(token);
    const now = this.now();
    let e = this.#cache.get(key);
    if (!e || now - e.readAt > CHECK_CACHE_MS) {
      const [row] = await this.db.query<{ binding_hash: string; expires_at: Date }>(
        `SELECT binding_hash, expires_at FROM dashboard_sessions WHERE token_hash = $1`,
        [key],
      );
      // Unknown tokens are not cached: a guesser must not fill the memory.
      if (!row) return false;
      e = { bindingHash: row.binding_hash, expiresAt: new Date(row.expires_at).getTime(), readAt: now };
      if (this.#cache.size >= MAX_SESSIONS * 4) this.#cache.clear();
      this.#cache.set(key, e);
    }
    if (e.expiresAt <= now) return false;
    return binding !== undefined && safeEqual(e.bindingHash, hash(binding));
  }

  async revoke(token: string): Promise<boolean> {
    const key = hash(token);
    this.#cache.delete(key);
    const rows = await this.db.query(`DELETE FROM dashboard_sessions WHERE token_hash = $1 RETURNING 1`, [
      key,
    ]);
    return rows.length > 0;
  }

  async revokeAll(): Promise<number> {
    this.#cache.clear();
    const rows = await this.db.query(`DELETE FROM dashboard_sessions RETURNING 1`);
    return rows.length;
  }
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
