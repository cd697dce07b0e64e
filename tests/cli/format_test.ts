/** The CLI's value formatting, colours and argument parsing, in-process. */
import { assertEquals, assertThrows } from "../helpers/assert.ts";
import {
  formatAge,
  formatBytes,
  formatCount,
  formatSpan,
  heartbeatCell,
  paintState,
  shellQuote,
  stateText,
  tokensCell,
  uptime,
} from "../../cli/render/format.ts";
import { parseChoice, splitArgs } from "../../cli/args.ts";
import { AppError } from "../../lib/errors.ts";
import { terminalWidth } from "../../cli/render/table.ts";
import {
  age as webAge,
  bytes as webBytes,
  compact as webCount,
  span as webSpan,
} from "../../web/src/format.ts";

Deno.test("format: token counts in human units", () => {
  const cases: [number, string][] = [
    [0, "0"],
    [999, "999"],
    [1000, "1.0k"],
    [12_345, "12.3k"],
    [99_949, "99.9k"],
    [123_422, "123k"],
    [999_499, "999k"],
    [999_500, "1.0M"],
    [4_500_000, "4.5M"],
    [123_456_789, "123M"],
    [1_200_000_000, "1.2B"],
  ];
  for (const [n, text] of cases) {
    assertEquals(formatCount(n), text, String(n));
    assertEquals(webCount(n), text, "the web shows token counts as the CLI does");
  }
});

Deno.test("format: bytes, spans, ages and uptimes", () => {
  assertEquals(formatBytes(null), "-");
  assertEquals(formatBytes(512), "512 B");
  assertEquals(formatBytes(150 * 1024 * 1024), "150 MiB");
  assertEquals(formatBytes(45.7 * 1024 * 1024), "45.7 MiB");
  assertEquals(formatBytes(1.5 * 1024 ** 3), "1.5 GiB");
  assertEquals(formatBytes(1023.96 * 1024), "1.0 MiB", "never 1024.0 KiB");
  for (const n of [512, 5 * 1024, 312 * 1024 ** 2, 1.5 * 1024 ** 3]) {
    assertEquals(webBytes(n), formatBytes(n), "the web shows sizes as the CLI does");
  }
  const s = 1000, m = 60 * s, h = 60 * m, d = 24 * h;
  const spans: [number, string][] = [
    [-5, "0s"],
    [999, "0s"],
    [45 * s, "45s"],
    [3 * m + 12 * s, "3m12s"],
    [5 * m, "5m"],
    [2 * h + 5 * m + 30 * s, "2h5m"],
    [4 * d + 7 * h, "4d7h"],
    [45 * d + 7 * h, "45d"],
    [800 * d, "2y70d"],
  ];
  for (const [ms, text] of spans) {
    assertEquals(formatSpan(ms), text, String(ms));
    assertEquals(webSpan(ms), text, "the web shows spans as the CLI does");
  }
  const at = Date.parse("2025-06-01T12:00:00Z");
  assertEquals(formatAge("2025-06-01T11:57:00Z", at), "3m ago");
  assertEquals(webAge("2025-06-01T11:56:48Z", at), "3m12s ago", "the web shows ages as the CLI does");
  assertEquals(webAge(null, at), "never");
  assertEquals(formatAge(null, at), "-");
  assertEquals(uptime({ startedAt: "2025-06-01T10:00:00Z", endedAt: null }, at), "2h");
  assertEquals(uptime({ startedAt: "2025-06-01T10:00:00Z", endedAt: "2025-06-01T10:00:42Z" }, at), "42s");
  assertEquals(uptime({ startedAt: null, endedAt: null }, at), "-");
});

Deno.test("format: states read with their activity and carry their colours", () => {
  assertEquals(stateText({ state: "running", activity: "waiting_for_input" }), "running (waiting for input)");
  assertEquals(stateText({ state: "stopping", activity: "busy" }), "stopping");
  const colour = (state: Parameters<typeof paintState>[0]["state"]) =>
    paintState({ state, activity: null }, true).split("m")[0].slice(2);
  assertEquals(
    (["running", "starting", "stopping", "failed", "stopped", "killed"] as const).map(colour),
    ["32", "33", "33", "31", "90", "35"],
  );
  assertEquals(paintState({ state: "failed", activity: null }, false), "failed");
});

Deno.test("format: a heartbeat turns yellow at half the TTL and red at 80 %", () => {
  const at = Date.parse("2025-06-01T12:00:00Z");
  const beat = (secondsAgo: number, state: "running" | "stopped" = "running") =>
    heartbeatCell(
      { state, lastHeartbeatAt: new Date(at - secondsAgo * 1000).toISOString() },
      30_000,
      true,
      at,
    );
  assertEquals(beat(3), "3s ago");
  assertEquals(beat(15), "\x1b[33m15s ago\x1b[0m");
  assertEquals(beat(24), "\x1b[31m24s ago\x1b[0m");
  assertEquals(beat(300, "stopped"), "\x1b[90m5m ago\x1b[0m", "ended runners: dimmed, never alarming");
  assertEquals(heartbeatCell({ state: "starting", lastHeartbeatAt: null }, 30_000, true, at), "-");
});

Deno.test("args: --args splits like a shell, and words are quoted back only when needed", () => {
  assertEquals(splitArgs(""), []);
  assertEquals(splitArgs(`--model opus`), ["--model", "opus"]);
  assertEquals(splitArgs(`-p "a b" 'c "d"' e\\ f ""`), ["-p", "a b", `c "d"`, "e f", ""]);
  assertEquals(splitArgs(`"say \\"hi\\""`), [`say "hi"`]);
  assertThrows(() => splitArgs(`'open`), AppError, "unclosed '");
  assertEquals(["opus", "a b", "it's", "$HOME", ""].map(shellQuote), [
    "opus",
    "'a b'",
    `"it's"`,
    "'$HOME'",
    "''",
  ]);
  assertEquals(parseChoice("--state", "running", ["running", "stopped"]), "running");
  assertThrows(() => parseChoice("--state", "zzz", ["running"]), AppError, "--state must be one of running");
});

Deno.test("table: off a terminal the width is COLUMNS when set, else unlimited", () => {
  if (Deno.stdout.isTerminal()) return; // the real terminal's width wins there
  const before = Deno.env.get("COLUMNS");
  try {
    Deno.env.set("COLUMNS", "72");
    assertEquals(terminalWidth(), 72);
    Deno.env.set("COLUMNS", "wide");
    assertEquals(terminalWidth(), undefined);
    Deno.env.delete("COLUMNS");
    assertEquals(terminalWidth(), undefined);
  } finally {
    if (before === undefined) Deno.env.delete("COLUMNS");
    else Deno.env.set("COLUMNS", before);
  }
});

Deno.test("format: tokens are counted for claude only; other commands say n/a", () => {
  const tokens = { input: 1000, output: 2000, cacheCreation: 0, cacheRead: 500 };
  assertEquals(tokensCell({ command: "claude", tokens }), formatCount(3500));
  assertEquals(tokensCell({ command: "C:\\Tools\\claude.exe", tokens }), formatCount(3500));
  assertEquals(tokensCell({ command: "aider", tokens }), "n/a");
  assertEquals(tokensCell({ command: "/usr/bin/codex", tokens }), "n/a");
});
