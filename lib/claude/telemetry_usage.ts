/**
 * What the daemon reads from Claude Code's OpenTelemetry export (lib/claude/telemetry.ts sets it up): the
 * cumulative cost and token counters per session and model, and the API request events.
 */
import { createHash } from "node:crypto";
import type { Attrs, LogEvent, MetricPoint } from "../otlp.ts";

export const REPORT_KINDS = ["cost", "input", "output", "cacheRead", "cacheCreation"] as const;
export type ReportKind = typeof REPORT_KINDS[number];

/**
 * One cumulative value of a session's cost or tokens: a telemetry series point, or a headless run's result
 * event per model (the daemon books both, daemon/store/usage.ts).
 */
export interface ReportedPoint {
  /** Stable id of the series: metric and its whole attribute set. */
  series: string;
  /** When the series started counting (a new process starts a new series). */
  start: string;
  sessionId: string;
  model: string;
  kind: ReportKind;
  value: number;
}

const TOKEN_TYPES: Record<string, ReportKind> = {
  input: "input",
  output: "output",
  cacheRead: "cacheRead",
  cacheCreation: "cacheCreation",
};

function seriesId(metric: string, attrs: Attrs): string {
  const keys = Object.keys(attrs).sort();
  const text = metric + "\u0000" + keys.map((k) => `${k}=${JSON.stringify(attrs[k])}`).join("\u0000");
  return createHash("sha256").update(text).digest("hex").slice(0, 32);
}

/**
 * The cost and token counters among exported points. Only cumulative monotonic sums are taken: delta
 * points cannot be booked exactly once across retries, so they are returned as `skipped`.
 */
export function reportedPoints(points: MetricPoint[]): { points: ReportedPoint[]; skipped: number } {
  const out: ReportedPoint[] = [];
  let skipped = 0;
  for (const p of points) {
    let kind: ReportKind | undefined;
    if (p.metric === "claude_code.cost.usage") kind = "cost";
    else if (p.metric === "claude_code.token.usage") kind = TOKEN_TYPES[String(p.attrs.type)];
    if (!kind) continue;
    const sessionId = p.attrs["session.id"];
    const model = p.attrs.model;
    if (
      p.temporality !== 2 || typeof sessionId !== "string" || !sessionId || sessionId.length > 200 ||
      typeof model !== "string" || model.length > 200 || !(p.value >= 0)
    ) {
      skipped++;
      continue;
    }
    out.push({ series: seriesId(p.metric, p.attrs), start: p.start, sessionId, model, kind, value: p.value });
  }
  return { points: out, skipped };
}

/** One API request (or failed request) of a session, from Claude Code's `api_request` / `api_error` events. */
export interface ApiCall {
  /** Claude Code's per-process event sequence: with the runner, the key that makes a repeat harmless. */
  sequence: number;
  kind: "request" | "error";
  sessionId: string;
  model: string;
  requestId: string | null;
  at: Date;
  durationMs: number;
  costUsd: number;
  input: number;
  output: number;
  cacheRead: number;
  cacheCreation: number;
  statusCode: number | null;
  error: string | null;
}

const num = (v: unknown) =>
  typeof v === "number" && Number.isFinite(v) && v >= 0 ? v : Number(v) >= 0 ? Number(v) : 0;
const int = (v: unknown) => Math.min(Math.trunc(num(v)), 1e12);

export function apiCalls(events: LogEvent[]): ApiCall[] {
  const out: ApiCall[] = [];
  for (const e of events) {
    const kind = e.name === "claude_code.api_request"
      ? "request"
      : e.name === "claude_code.api_error"
      ? "error"
      : undefined;
    if (!kind) continue;
    const a = e.attrs;
    const seq = Number(a["event.sequence"]);
    const sessionId = a["session.id"];
    if (!Number.isSafeInteger(seq) || seq < 0 || typeof sessionId !== "string" || !sessionId) continue;
    const ms = Number(BigInt(e.time) / 1_000_000n);
    const stamp = typeof a["event.timestamp"] === "string" ? Date.parse(a["event.timestamp"]) : NaN;
    // Cost in micro-dollars is exact when Claude Code sends it; the float is the fallback.
    const micros = Number(a.cost_usd_micros);
    out.push({
      sequence: seq,
      kind,
      sessionId: sessionId.slice(0, 200),
      model: String(a.model ?? "").slice(0, 200),
      requestId: typeof a.request_id === "string" ? a.request_id.slice(0, 200) : null,
      at: new Date(Number.isFinite(stamp) ? stamp : ms || Date.now()),
      durationMs: int(a.duration_ms),
      costUsd: Number.isSafeInteger(micros) && micros >= 0 ? micros / 1e6 : num(a.cost_usd),
      input: int(a.input_tokens),
      output: int(a.output_tokens),
      cacheRead: int(a.cache_read_tokens),
      cacheCreation: int(a.cache_creation_tokens),
      statusCode: a.status_code !== undefined && Number.isSafeInteger(Number(a.status_code))
        ? Number(a.status_code)
        : null,
      error: typeof a.error === "string" ? a.error.slice(0, 2000) : null,
    });
  }
  return out;
}
