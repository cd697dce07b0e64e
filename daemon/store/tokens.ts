/**
 * Agent tokens: each runner gets a random token, shown once at launch; only its SHA-256 is stored.
 * Lookups are cached per runner (a hash never changes), so the heartbeat path costs no extra query.
 */
import { createHash, timingSafeEqual } from "node:crypto";
import type { Queryable } from "../../lib/db/types.ts";
import { base64url } from "../../lib/home.ts";

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

export type TokenCheck = "ok" | "unknown" | "other_runner";

export class AgentTokenCache {
  #byRunner = new Map<number, string>();
  #byHash = new Map<string, number>();
  #limit: number;

  constructor(limit = 100_000) {
    this.#limit = limit;
  }

  async check(q: Queryable, runnerId: number, token: string): Promise<TokenCheck> {
    const hash = sha256Hex(token);
    let known = this.#byRunner.get(runnerId);
    if (known === undefined) {
      const [row] = await q.query<{ token_sha256: string }>(
        "SELECT token_sha256 FROM agent_tokens WHERE runner_id = $1 AND revoked_at IS NULL",
        [runnerId],
      );
      if (row) {
        known = row.token_sha256;
        if (this.#byRunner.size >= this.#limit) this.#byRunner.delete(this.#byRunner.keys().next().value!);
        this.#byRunner.set(runnerId, known);
      }
    }
    if (known !== undefined && safeEqual(known, hash)) return "ok";
    const [other] = await q.query<{ runner_id: number }>(
      "SELECT runner_id FROM agent_tokens WHERE token_sha256 = $1",
      [hash],
    );
    return other ? "other_runner" : "unknown";
  }

  /** The stored token hash of a runner, once check() has seen it (the heartbeat signing key). */
  knownHash(runnerId: number): string | undefined {
    return this.#byRunner.get(runnerId);
  }

  /**
   * Which runner a token belongs to, if any (to tell a runner token from a wrong admin token, and to
   * attribute telemetry exports, which carry no runner id in their path). Found owners are cached.
   */
  async owner(q: Queryable, token: string): Promise<number | undefined> {
    const hash = sha256Hex(token);
    const cached = this.#byHash.get(hash);
    if (cached !== undefined) return cached;
    const [row] = await q.query<{ runner_id: number }>(
      "SELECT runner_id FROM agent_tokens WHERE token_sha256 = $1",
      [hash],
    );
    if (row) {
      if (this.#byHash.size >= this.#limit) this.#byHash.delete(this.#byHash.keys().next().value!);
      this.#byHash.set(hash, row.runner_id);
    }
    return row?.runner_id;
  }
}
