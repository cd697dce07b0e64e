/**
 * HMAC-signed heartbeats: the agent signs each heartbeat body with a key derived from its runner token
 * (the token's SHA-256, which is also all the daemon stores), over a millisecond timestamp. The daemon
 * rejects bad signatures, stale or future timestamps, and replays (a timestamp not newer than the last).
 * Header: `X-Stratavore-Signature: t=<ms>,v1=<hex HMAC-SHA256(key, "<t>.<body>")>`.
 */
import { Buffer } from "node:buffer";
import { createHash, createHmac, timingSafeEqual } from "node:crypto";

export const SIGNATURE_HEADER = "x-stratavore-signature";
export const SIGNATURE_WINDOW_MS = 5 * 60_000;

export function signingKey(token: string): string {
  return createHash("sha256").update(token).digest("hex");
}

export function sign(keyHex: string, timestamp: number, body: string): string {
  const mac = createHmac("sha256", keyHex).update(`${timestamp}.${body}`).digest("hex");
  return `t=${timestamp},v1=${mac}`;
}

/** Signs one runner's heartbeats with timestamps that strictly increase, as the daemon requires. */
export class HeartbeatSigner {
  #key: string;
  #last = 0;
  constructor(token: string) {
    this.#key = signingKey(token);
  }
  /** The signature header for this body. */
  headers(body: string): Record<string, string> {
    this.#last = Math.max(Date.now(), this.#last + 1);
    return { [SIGNATURE_HEADER]: sign(this.#key, this.#last, body) };
  }
}

export type SignatureCheck = "ok" | "missing" | "malformed" | "stale" | "bad";

export function verify(header: string | undefined, keyHex: string, body: string, now: number): {
  result: SignatureCheck;
  timestamp?: number;
} {
  if (!header) return { result: "missing" };
  const m = /^t=(\d{1,16}),v1=([0-9a-f]{64})$/.exec(header.trim());
  if (!m) return { result: "malformed" };
  const t = Number(m[1]);
  if (Math.abs(now - t) > SIGNATURE_WINDOW_MS) return { result: "stale", timestamp: t };
  const expected = createHmac("sha256", keyHex).update(`${t}.${body}`).digest();
  const given = Buffer.from(m[2], "hex");
  return { result: timingSafeEqual(expected, given) ? "ok" : "bad", timestamp: t };
}
