/** The heartbeat HMAC built from two hashes equals node:crypto's createHmac for every key and message shape. */
import { createHmac } from "node:crypto";
import { assertEquals } from "../helpers/assert.ts";
import { equalConstantTime, hmacSha256Hex, sign, signingKey, verify } from "../../lib/signature.ts";

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

Deno.test("signature: verify accepts its own signature and refuses a changed body, key or signature", () => {
  const key = signingKey("svr_abc");
  const now = Date.now();
  const header = sign(key, now, '{"a":1}');
  assertEquals(verify(header, key, '{"a":1}', now).result, "ok");
  assertEquals(verify(header, key, '{"a":2}', now).result, "bad");
  assertEquals(verify(header, signingKey("svr_abd"), '{"a":1}', now).result, "bad");
  const flipped = header.slice(0, -1) + (header.endsWith("0") ? "1" : "0");
  assertEquals(verify(flipped, key, '{"a":1}', now).result, "bad");
  assertEquals(verify(header, key, '{"a":1}', now + 6 * 60_000).result, "stale");
  assertEquals(verify("t=1,v1=zz", key, "", now).result, "malformed");
  assertEquals([equalConstantTime("ab", "ab"), equalConstantTime("ab", "ac"), equalConstantTime("a", "ab")], [
    true,
    false,
    false,
  ]);
});
