/**
 * The small pure modules every role shares, in-process: durations, listen addresses, shell words, costs,
 * token totals, sizes, the scrollback ring and telling Claude Code's command apart.
 */
import { assertEquals, assertThrows } from "../helpers/assert.ts";
import { formatDuration, parseDuration } from "../../lib/duration.ts";
import { isLoopback, listenUrl, parseListen } from "../../lib/listen.ts";
import { splitShellWords } from "../../lib/shell_words.ts";
import { costSourceText, costSummaryOf, formatCost } from "../../lib/cost.ts";
import { addTokens, tokenTotal, zeroTokens } from "../../lib/tokens.ts";
import { formatBytes } from "../../lib/format.ts";
import { ByteRing } from "../../lib/byte_ring.ts";
import { isClaude } from "../../lib/claude/command.ts";
import { ID_RE } from "../../lib/ids.ts";
import { parseRunnerId } from "../../cli/args.ts";

Deno.test("duration: parsed from each unit, rounded to whole ms; junk is undefined; formatted back", () => {
  const cases: [string, number | undefined][] = [
    ["500ms", 500],
    ["10s", 10_000],
    [" 2m ", 120_000],
    ["1.5h", 5_400_000],
    ["7d", 604_800_000],
    ["0.0004s", 0],
    ["10", undefined],
    ["-1s", undefined],
    ["1w", undefined],
    ["s", undefined],
  ];
  for (const [text, ms] of cases) assertEquals(parseDuration(text), ms, text);
  const back: [number, string][] = [
    [250.4, "250ms"],
    [1000, "1s"],
    [59_999, "59s"],
    [60_000, "1m"],
    [61_000, "1m1s"],
    [3_600_000, "1h"],
    [3_660_000, "1h1m"],
    [47 * 3_600_000, "1d23h"],
    [48 * 3_600_000, "2d"],
    [49 * 3_600_000, "2d1h"],
  ];
  for (const [ms, text] of back) assertEquals(formatDuration(ms), text, String(ms));
  for (const text of ["500ms", "10s", "2m", "1h", "7d"]) {
    assertEquals(parseDuration(formatDuration(parseDuration(text)!)), parseDuration(text));
  }
  // What is shown can be typed back: every span reads back as the time it shows.
  for (const [ms, text] of back) assertEquals(parseDuration(text), Math.floor(ms / 1000) * 1000 || 250, text);
  assertEquals(parseDuration("1h30m"), 5_400_000);
  assertEquals(parseDuration("2y30d"), (2 * 365 + 30) * 86_400_000);
  for (const bad of ["30m1h", "1h1h", "1h 30", "h1", "1.5.2s", ""]) {
    assertEquals(parseDuration(bad), undefined, bad);
  }
});

Deno.test("listen: host:port and [v6]:port parsed, ports past 65535 refused; loopback; the URL to call", () => {
  assertEquals(parseListen("127.0.0.1:7777"), { hostname: "127.0.0.1", port: 7777 });
  assertEquals(parseListen(" localhost:0 "), { hostname: "localhost", port: 0 });
  assertEquals(parseListen("[::1]:80"), { hostname: "::1", port: 80 });
  for (const bad of ["7777", "host:", ":80", "host:65536", "host:123456", "a b:1", "::1:80"]) {
    assertEquals(parseListen(bad), undefined, bad);
  }
  for (const h of ["localhost", "::1", "127.0.0.1", "127.1.2.3"]) assertEquals(isLoopback(h), true, h);
  for (const h of ["0.0.0.0", "::", "10.0.0.1", "example.org", "128.0.0.1"]) {
    assertEquals(isLoopback(h), false, h);
  }
  assertEquals(listenUrl({ hostname: "0.0.0.0", port: 1 }), "http://127.0.0.1:1");
  assertEquals(listenUrl({ hostname: "::", port: 2 }), "http://[::1]:2");
  assertEquals(listenUrl({ hostname: "fe80::1", port: 3 }), "http://[fe80::1]:3");
  assertEquals(listenUrl({ hostname: "example.org", port: 4 }), "http://example.org:4");
});

Deno.test("shell words: quotes, escapes and empty words as a POSIX shell splits them", () => {
  const cases: [string, string[]][] = [
    ["", []],
    ["  a   b  ", ["a", "b"]],
    [`--model 'claude opus' -p "it's \\"so\\" \\$5"`, ["--model", "claude opus", "-p", `it's "so" $5`]],
    [`'' ""`, ["", ""]],
    [`a\\ b c`, ["a b", "c"]],
    [`"a\\nb"`, ["a\\nb"]],
    [`'a\\'`, ["a\\"]],
    [`x"y"'z'`, ["xyz"]],
    ["tab\tand\nnewline", ["tab", "and", "newline"]],
  ];
  for (const [text, words] of cases) assertEquals(splitShellWords(text), words, text);
  assertThrows(() => splitShellWords(`"open`), Error, 'unclosed "');
  assertThrows(() => splitShellWords(`it's`), Error, "unclosed '");
});

Deno.test("cost: the source follows which parts are reported, estimated or unpriced; written accordingly", () => {
  const none = costSummaryOf(0, 0);
  assertEquals([none.source, formatCost(none), costSourceText(none)], ["none", "-", "no usage"]);
  const reported = costSummaryOf(0.0123, 0.0123);
  assertEquals([reported.source, formatCost(reported)], ["claude-code", "$0.0123"]);
  const estimated = costSummaryOf(1.5, 0);
  assertEquals([estimated.source, formatCost(estimated), costSourceText(estimated)], [
    "estimated",
    "~$1.50",
    "estimated from the price table",
  ]);
  const mixed = costSummaryOf(0.3, 0.1);
  assertEquals([mixed.source, formatCost(mixed)], ["mixed", "~$0.3000"]);
  assertEquals(costSourceText(mixed), "$0.1000 reported by Claude Code, the rest estimated");
  const unpriced = costSummaryOf(0, 0, 500);
  assertEquals([unpriced.source, formatCost(unpriced), costSourceText(unpriced)], [
    "estimated",
    "unpriced",
    "no price for this model",
  ]);
  assertEquals(formatCost(costSummaryOf(0.5, 0.5, 10)), "~$0.5000 + unpriced");
  // Float noise from summed deltas does not turn a reported cost into a mixed one.
  const summed = costSummaryOf(0.1 + 0.2, 0.3);
  assertEquals([summed.usd, summed.source], [0.3, "claude-code"]);
  assertEquals(formatCost(costSummaryOf(2, 2), 1), "$2.0");
});

Deno.test("tokens: the total counts each kind once (the 1-hour writes are inside cacheCreation)", () => {
  const t = zeroTokens();
  addTokens(t, { input: 1, output: 2, cacheCreation: 30, cacheCreation1h: 10, cacheRead: 400 });
  addTokens(t, { input: 1, output: 0, cacheCreation: 5, cacheCreation1h: 5, cacheRead: 0 });
  assertEquals(t, { input: 2, output: 2, cacheCreation: 35, cacheCreation1h: 15, cacheRead: 400 });
  assertEquals(tokenTotal(t), 439);
  assertEquals(tokenTotal(null), 0);
  assertEquals(tokenTotal(undefined), 0);
});

Deno.test("sizes: bytes below a KiB whole, then one decimal below 100 of a unit, powers of 1024", () => {
  const cases: [number, string][] = [
    [0, "0 B"],
    [1023, "1023 B"],
    [1024, "1.0 KiB"],
    [99.94 * 1024, "99.9 KiB"],
    [99.96 * 1024, "100 KiB"],
    [1023.94 * 1024, "1024 KiB"],
    [1023.96 * 1024, "1.0 MiB"],
    [3 * 1024 ** 3, "3.0 GiB"],
    [2048 * 1024 ** 4, "2048 TiB"],
  ];
  for (const [n, text] of cases) assertEquals(formatBytes(n), text, String(n));
});

Deno.test("scrollback ring: keeps the last `limit` bytes across chunk edges; replace starts over", () => {
  const enc = (s: string) => new TextEncoder().encode(s);
  const dec = (b: Uint8Array) => new TextDecoder().decode(b);
  const ring = new ByteRing(5);
  ring.push(enc("ab"));
  ring.push(enc("cd"));
  assertEquals([dec(ring.snapshot()), ring.size], ["abcd", 4]);
  ring.push(enc("efg"));
  assertEquals([dec(ring.snapshot()), ring.size], ["cdefg", 5]);
  ring.push(enc("0123456789"));
  assertEquals([dec(ring.snapshot()), ring.size], ["56789", 5]);
  ring.replace(enc("xy"));
  assertEquals([dec(ring.snapshot()), ring.size], ["xy", 2]);
  ring.push(new Uint8Array());
  assertEquals(dec(ring.snapshot()), "xy");
});

Deno.test("claude command: the program name, with any folder and Windows extension, and nothing else", () => {
  for (
    const c of ["claude", "/usr/local/bin/claude", "C:\\Tools\\claude.exe", "claude.CMD", "bin/Claude.bat"]
  ) {
    assertEquals(isClaude(c), true, c);
  }
  for (const c of ["claude-code", "myclaude", "claude.sh", "/opt/claude/run", "node", ""]) {
    assertEquals(isClaude(c), false, c);
  }
});

Deno.test("ids: one pattern for runner and event ids in paths and arguments", () => {
  for (const ok of ["1", "42", "999999999999999"]) assertEquals(ID_RE.test(ok), true, ok);
  for (const bad of ["0", "01", "1234567890123456", "-1", "1.5", "1e3", " 1", ""]) {
    assertEquals(ID_RE.test(bad), false, bad);
  }
  assertEquals(parseRunnerId("42"), 42);
  assertThrows(() => parseRunnerId("042"), Error, "is not a runner id");
});
