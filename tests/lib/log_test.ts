/** lib/log.ts: the format follows the log's stream (a terminal or not) unless chosen; lines carry context. */
import { assert, assertEquals, assertMatch } from "../helpers/assert.ts";
import { Logger, type LogSink } from "../../lib/log.ts";

function sink(terminal: boolean): LogSink & { lines: string[] } {
  const lines: string[] = [];
  return { lines, write: (l) => lines.push(l), isTerminal: () => terminal };
}

function logger(s: LogSink, format: "auto" | "json" | "text", level: "debug" | "info" = "info"): Logger {
  const l = new Logger({ level: "info", json: false, sink: s, secrets: new Set() });
  l.configure({ format, level });
  return l;
}

Deno.test("log: auto writes readable lines to a terminal and JSON lines elsewhere", () => {
  const tty = sink(true);
  logger(tty, "auto").child({ runner: 42, project: "api" }).info("runner started", { pid: 7 });
  assertMatch(tty.lines[0], /^\d\d:\d\d:\d\d\.\d{3} INFO {2}runner started runner=42 project=api pid=7$/);

  const pipe = sink(false);
  logger(pipe, "auto").child({ runner: 42, project: "api" }).warn("heartbeat late", { ageMs: 31000 });
  const rec = JSON.parse(pipe.lines[0]);
  assertEquals({ ...rec, ts: undefined }, {
    ts: undefined,
    level: "warn",
    msg: "heartbeat late",
    runner: 42,
    project: "api",
    ageMs: 31000,
  });
  assert(!Number.isNaN(Date.parse(rec.ts)), "ts is an ISO time");
});

Deno.test("log: --log-format json and text win over the terminal check", () => {
  const tty = sink(true);
  logger(tty, "json").info("hello", { where: "a b" });
  assertEquals(JSON.parse(tty.lines[0]).where, "a b");
  const pipe = sink(false);
  logger(pipe, "text").info("hello", { where: "a b" });
  assertMatch(pipe.lines[0], / INFO {2}hello where="a b"$/);
});

Deno.test("log: levels filter, and registered secrets never reach a line", () => {
  const s = sink(false);
  const l = logger(s, "json");
  l.debug("not shown");
  l.redact("svr_0123456789abcdef");
  l.child({ component: "http" }).error("bad token", {
    header: "Bearer svr_0123456789abcdef",
    error: new Error("token svr_0123456789abcdef refused"),
  });
  assertEquals(s.lines.length, 1);
  assert(!s.lines[0].includes("svr_0123456789abcdef"), s.lines[0]);
  const rec = JSON.parse(s.lines[0]);
  assertEquals([rec.level, rec.component, rec.header], ["error", "http", "Bearer [redacted]"]);
  assertMatch(rec.error, /token \[redacted\] refused/);
});
