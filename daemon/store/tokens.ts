/**
 * Agent tokens: each runner gets a random token, shown once at launch; only its SHA-256 is stored.
 * Lookups are cached per runner (a hash never changes), so the heartbeat path costs no extra query.
 */
import { createHash, timingSafeEqual } from "node:crypto";
import type { Queryable } from "../../lib/db/types.ts";
import { base64url } from "../../lib/home.ts";
import { equalConstantTime } from "../../lib/signature_verify.ts";

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

  /**
   * `staleOk` (heartbeats): a cached row past its TTL still answers when the token matches and was not
   * ended, and is read again right after, together with the other runners' in one query. A heartbeat's
   * own write refuses an ended runner anyway; without this, at 10,000 runners every heartbeat (one per
   * runner per 10 s) also cost a query of its own (bench/heartbeat.ts).
   */
  async check(
    q: Queryable,
    runnerId: number,
    token: string,
    opts: { staleOk?: boolean } = {},
  ): Promise<TokenCheck> {
    if (opts.staleOk && this.cached(q, runnerId, token) === "ok") return "ok";
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

  /**
   * check() with `staleOk`, answered from the cache alone: "ok", or undefined when only check() can tell
   * (nothing cached, another token, ended). Lets the heartbeat's fast path (routes/heartbeat.ts) skip hono.
   */
  cached(q: Queryable, runnerId: number, token: string): "ok" | undefined {
    const known = this.#byRunner.get(runnerId);
    if (known === undefined) return undefined;
    const now = this.#now();
    if (known.revokeAt !== null && known.revokeAt <= now) return undefined;
    // Both are SHA-256 hex digests: a constant-time comparison of the strings is enough (and costs no hash).
    if (!equalConstantTime(known.hash, sha256Hex(token))) return undefined;
    if (now - known.fetchedAt > TOKEN_CACHE_TTL_MS) this.#refreshSoon(q, runnerId);
    return "ok";
  }

  #stale = new Set<number>();
  #refreshing = false;

  /** Reads the stale runners' rows again, many in one query, a moment from now. */
  #refreshSoon(q: Queryable, runnerId: number): void {
    this.#stale.add(runnerId);
    if (this.#refreshing) return;
    this.#refreshing = true;
    setTimeout(async () => {
      const ids = [...this.#stale];
      this.#stale.clear();
      try {
        const rows = await q.query<{ runner_id: number; token_sha256: string; revoke_ms: number | null }>(
          `SELECT t.runner_id, t.token_sha256, ${REVOKE_MS} FROM agent_tokens t JOIN runners r ON r.id = t.runner_id
           WHERE t.runner_id = ANY($1::bigint[])`,
          [ids, this.#graceMs],
        );
        const fetchedAt = this.#now();
        const found = new Set<number>();
        for (const row of rows) {
          found.add(row.runner_id);
          this.#byRunner.set(row.runner_id, { hash: row.token_sha256, revokeAt: row.revoke_ms, fetchedAt });
        }
        for (const id of ids) if (!found.has(id)) this.#byRunner.delete(id);
      } catch {
        // Left stale: the next check reads the row itself unless it is a heartbeat, which tries again.
      } finally {
        this.#refreshing = false;
        if (this.#stale.size > 0) this.#refreshSoon(q, this.#stale.values().next().value!);
      }
    }, 0);
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
