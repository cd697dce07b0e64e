/**
 * The heartbeat signatures: the agent's plain-JavaScript SHA-256 and HMAC equal node:crypto's for every
 * length and key shape, the daemon's HMAC from two plain hashes equals createHmac, and what the agent's
 * signer sends is what the daemon's verifier accepts (and nothing tampered with).
 */
import { createHash, createHmac } from "node:crypto";
import { assert, assertEquals } from "../helpers/assert.ts";
import { hmacSha256, sha256, toHex } from "../../lib/sha256.ts";
import {
  HeartbeatSigner,
  parseSignature,
  SIGNATURE_HEADER,
  signatureValue,
  signingKey,
} from "../../lib/signature.ts";
import { equalConstantTime, hmacSha256Hex, verify } from "../../lib/signature_verify.ts";

const bytes = (n: number, seed: number) =>
  Uint8Array.from({ length: n }, (_, i) => (i * 31 + seed * 7) & 255);

Deno.test("signature: the plain-JS SHA-256 equals node:crypto's at every length across the block edges", () => {
  // 0–300 bytes covers the padding's edges (55, 56, 64, 119, 120, 128 …); then a few larger ones.
  for (const n of [...Array(301).keys(), 1000, 4096, 65_537]) {
    const data = bytes(n, n);
    assertEquals(toHex(sha256(data)), createHash("sha256").update(data).digest("hex"), `${n} bytes`);
  }
});

Deno.test("signature: the plain-JS HMAC equals createHmac (short, block-sized and long keys)", () => {
  for (const k of [0, 1, 32, 63, 64, 65, 200]) {
    for (const m of [0, 1, 55, 56, 64, 500, 5000]) {
      const key = bytes(k, 1);
      const message = bytes(m, 2);
      assertEquals(
        toHex(hmacSha256(key, message)),
        createHmac("sha256", key).update(message).digest("hex"),
        `key ${k}, message ${m}`,
      );
    }
  }
});

Deno.test("signature: hmacSha256Hex equals createHmac (short, block-sized and long keys; any text)", () => {
  const keys = ["", "k", signingKey("svr_token"), "x".repeat(64), "y".repeat(65), "ключ-🔑".repeat(20)];
  const messages = [
    "",
    "1.{}",
    `1700000000000.${JSON.stringify({ cpuPercent: 1.5, note: "é ✓ 🚀" })}`,
    "z".repeat(5000),
  ];
  for (const k of keys) {
    for (const m of messages) {
      assertEquals(hmacSha256Hex(k, m), createHmac("sha256", k).update(m).digest("hex"), `key ${k.length}`);
      assertEquals(hmacSha256Hex(k, m), createHmac("sha256", k).update(m).digest("hex"), "cached pads");
    }
  }
});

Deno.test("signature: the signing key is the token's SHA-256 hex, which is what the daemon stores", () => {
  for (const token of ["svr_abc", "", "ключ-🔑".repeat(40)]) {
    assertEquals(signingKey(token), createHash("sha256").update(token).digest("hex"));
  }
});

Deno.test("signature: the agent's signer's headers verify with the daemon's verifier; tampering fails", () => {
  const key = signingKey("svr_abc");
  const signer = new HeartbeatSigner("svr_abc");
  const bodies = ['{"a":1}', "", JSON.stringify({ note: "é ✓ 🚀", n: "z".repeat(5000) })];
  const values = bodies.map((b) => signer.headers(b)[SIGNATURE_HEADER]);
  const times = values.map((v) => parseSignature(v)!.timestamp);
  assert(times[0] < times[1] && times[1] < times[2], `strictly increasing timestamps: ${times}`);
  const now = Date.now();
  for (const [i, body] of bodies.entries()) {
    assertEquals(verify(values[i], key, body, now), { result: "ok", timestamp: times[i] });
  }
  const { timestamp, hmacHex } = parseSignature(values[0])!;
  assertEquals(verify(values[0], key, '{"a":2}', now).result, "bad", "a tampered body");
  assertEquals(
    verify(signatureValue(timestamp + 1, hmacHex), key, bodies[0], now).result,
    "bad",
    "a moved time",
  );
  assertEquals(
    verify(values[0], signingKey("svr_abd"), bodies[0], now).result,
    "bad",
    "another runner's key",
  );
  const flipped = values[0].slice(0, -1) + (values[0].endsWith("0") ? "1" : "0");
  assertEquals(verify(flipped, key, bodies[0], now).result, "bad", "a changed signature");
  assertEquals(verify(values[0], key, bodies[0], now + 6 * 60_000).result, "stale");
  assertEquals(verify("t=1,v1=zz", key, "", now).result, "malformed");
  assertEquals(verify(undefined, key, "", now).result, "missing");
  assertEquals([equalConstantTime("ab", "ab"), equalConstantTime("ab", "ac"), equalConstantTime("a", "ab")], [
    true,
    false,
    false,
  ]);
});
