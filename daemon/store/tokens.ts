/**
 * Agent tokens: each runner gets a random token, shown once at launch; only its SHA-256 is stored.
 * Lookups are cached per runner (a hash never changes), so the heartbeat path costs no extra query.
 */
import { createHash, timingSafeEqual } from "node:crypto";
import type { Queryable } from "../../lib/db/types.ts";
import { base64url } from "../../lib/home.ts";
import { equalConstantTime } from "../../lib/signature.ts";

export function sha256Hex(text: string): string {
  return createHash("sha256").update(text).digest("hex");
}

export function newAgentToken(): { token: string; sha256: string } {
  const token = "svr_" + base64url(crypto.getRandomValues(new Uint8Array(32)));
  return { token, sha256: sha256Hex(token) };
}

/** Constant-time equality of two strings (compared as SHA-256 digests, so lengths never leak). */
export function safeEqual(a: string, b: string): boolean {
  const da = createHash("sha256").update(a).digest();
  const db = createHash("sha256").update(b).digest();
  return timingSafeEqual(da, db);
}

export type TokenCheck = "ok" | "unknown" | "other_runner" | "ended";

/**
 * How long a cached token row is trusted before it is read again: a runner that ended on another daemon
 * (sharing PostgreSQL) has its token refused here at most this long after its grace ran out.
 */
export const TOKEN_CACHE_TTL_MS = 10_000;

interface Known {
  hash: string;
  /** When the token stops working (its runner ended, plus the grace for the final report), or null. */
  revokeAt: number | null;
  fetchedAt: number;
}

/**
 * When a token stops working: when it was revoked, or `grace` after its runner ended: long enough for the
 * agent's last report (its exit, the transcript upload), never for good. $2 is the grace in milliseconds.
 */
const REVOKE_MS =
  `(extract(epoch FROM coalesce(t.revoked_at, r.ended_at + make_interval(secs => $2::float8 / 1000)))
  * 1000)::float8 AS revoke_ms`;

export class AgentTokenCache {
  #byRunner = new Map<number, Known>();
  #byHash = new Map<string, { runnerId: number; revokeAt: number | null; fetchedAt: number }>();
  #limit: number;
  #now: () => number;
  #graceMs: number;

  /** `graceMs`: how long a runner's token keeps working after the runner ended (config runnerTokenGrace). */
  constructor(graceMs: number, limit = 100_000, now: () => number = Date.now) {
    this.#graceMs = graceMs;
    this.#limit = limit;
    this.#now = now;
  }

  async check(q: Queryable, runnerId: number, token: string): Promise<TokenCheck> {
    const hash = sha256Hex(token);
    const now = this.#now();
    let known = this.#byRunner.get(runnerId);
    if (known === undefined || now - known.fetchedAt > TOKEN_CACHE_TTL_MS) {
      const [row] = await q.query<{ token_sha256: string; revoke_ms: number | null }>(
        `SELECT t.token_sha256, ${REVOKE_MS} FROM agent_tokens t JOIN runners r ON r.id = t.runner_id
         WHERE t.runner_id = $1`,
        [runnerId, this.#graceMs],
      );
      if (row) {
        known = { hash: row.token_sha256, revokeAt: row.revoke_ms, fetchedAt: now };
        this.#byRunner.delete(runnerId);
        if (this.#byRunner.size >= this.#limit) this.#byRunner.delete(this.#byRunner.keys().next().value!);
        this.#byRunner.set(runnerId, known);
      } else known = undefined;
    }
    // Both are SHA-256 hex digests: a constant-time comparison of the strings is enough (and costs no hash).
    if (known !== undefined && equalConstantTime(known.hash, hash)) {
      return known.revokeAt !== null && known.revokeAt <= now ? "ended" : "ok";
    }
    const [other] = await q.query<{ runner_id: number }>(
      "SELECT runner_id FROM agent_tokens WHERE token_sha256 = $1",
      [hash],
    );
    return other ? "other_runner" : "unknown";
  }

  /** Forgets what is cached of a runner's token (it ended: the next use reads when it stops working). */
  forget(runnerId: number): void {
    this.#byRunner.delete(runnerId);
    for (const [hash, v] of this.#byHash) if (v.runnerId === runnerId) this.#byHash.delete(hash);
  }

  /** The stored token hash of a runner, once check() has seen it (the heartbeat signing key). */
  knownHash(runnerId: number): string | undefined {
    return this.#byRunner.get(runnerId)?.hash;
  }

  /**
   * Which runner a token belongs to, if any, and whether it still works (to tell a runner token from a
   * wrong admin token, and to attribute telemetry exports, which carry no runner id in their path).
   */
  async owner(q: Queryable, token: string): Promise<{ runnerId: number; ended: boolean } | undefined> {
    const hash = sha256Hex(token);
    const now = this.#now();
    let found = this.#byHash.get(hash);
    if (found === undefined || now - found.fetchedAt > TOKEN_CACHE_TTL_MS) {
      const [row] = await q.query<{ runner_id: number; revoke_ms: number | null }>(
        `SELECT t.runner_id, ${REVOKE_MS} FROM agent_tokens t JOIN runners r ON r.id = t.runner_id
         WHERE t.token_sha256 = $1`,
        [hash, this.#graceMs],
      );
      if (!row) return undefined;
      found = { runnerId: row.runner_id, revokeAt: row.revoke_ms, fetchedAt: now };
      this.#byHash.delete(hash);
      if (this.#byHash.size >= this.#limit) this.#byHash.delete(this.#byHash.keys().next().value!);
      this.#byHash.set(hash, found);
    }
    return { runnerId: found.runnerId, ended: found.revokeAt !== null && found.revokeAt <= now };
  }
}
