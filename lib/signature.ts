/**
 * HMAC-signed heartbeats: the agent signs each heartbeat body with a key derived from its runner token
 * (the token's SHA-256 as hex, which is also all the daemon stores; the HMAC key is that hex's bytes), over a
 * millisecond timestamp. The daemon rejects bad signatures, stale or future timestamps, and replays (a
 * timestamp not newer than the last).
 * Header: `X-Stratavore-Signature: t=<ms>,v1=<hex HMAC-SHA256(key, "<t>.<body>")>`.
 *
 * This module is the scheme and the agent's signer, in plain JavaScript (lib/sha256.ts): node:crypto and
 * WebCrypto both cost the agent's RSS. The daemon's synchronous verifier is lib/signature_verify.ts.
 */
import { hmacSha256, sha256, toHex } from "./sha256.ts";

export const SIGNATURE_HEADER = "x-stratavore-signature";
export const SIGNATURE_WINDOW_MS = 5 * 60_000;

/** What the HMAC covers: the timestamp and the body exactly as sent. */
export function signedMessage(timestamp: number, body: string): string {
  return `${timestamp}.${body}`;
}

/** The header's value. */
export function signatureValue(timestamp: number, hmacHex: string): string {
  return `t=${timestamp},v1=${hmacHex}`;
}

const VALUE = /^t=(\d{1,16}),v1=([0-9a-f]{64})$/;

/** A header value's timestamp and HMAC, or undefined when it is not of the form above. */
export function parseSignature(value: string): { timestamp: number; hmacHex: string } | undefined {
  const m = VALUE.exec(value.trim());
  return m ? { timestamp: Number(m[1]), hmacHex: m[2] } : undefined;
}

const utf8 = new TextEncoder();

/** The signing key of a runner token: its SHA-256 as hex. */
export function signingKey(token: string): string {
  return toHex(sha256(utf8.encode(token)));
}

/** The header value for `body` signed at `timestamp` with the key. */
export function sign(keyHex: string, timestamp: number, body: string): string {
  const mac = hmacSha256(utf8.encode(keyHex), utf8.encode(signedMessage(timestamp, body)));
  return signatureValue(timestamp, toHex(mac));
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
