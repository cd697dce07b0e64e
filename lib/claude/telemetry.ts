/**
 * Claude Code's OpenTelemetry, as Stratavore uses it: the environment that points a session's exporters at
 * the daemon, how to tell that the user already exports telemetry elsewhere, and what the daemon reads from
 * the export: the cumulative cost and token counters per session and model, and the API request events.
 */
import { createHash } from "node:crypto";
import type { Attrs, LogEvent, MetricPoint } from "../otlp.ts";

/** The resource attribute the agent sets on a session's telemetry: the runner it belongs to. */
export const RUNNER_ATTR = "stratavore.runner.id";

/** Where under the daemon's URL the OTLP/HTTP receiver is (exporters append /v1/metrics, /v1/logs). */
export const OTLP_PATH = "/api/v1/otlp";

export const REPORT_KINDS = ["cost", "input", "output", "cacheRead", "cacheCreation"] as const;
export type ReportKind = typeof REPORT_KINDS[number];

/** How a runner's Claude Code telemetry is set up. */
export type TelemetryMode = "stratavore" | "user" | "off";

export interface TelemetryEnvOptions {
  /** The daemon's base URL. */
  url: string;
  runnerId: number;
  token: string;
  intervalMs: number;
  /** OTEL_RESOURCE_ATTRIBUTES the user had, kept after ours. */
  resourceAttributes?: string;
}

/** The variables that make a Claude Code session export its metrics and events to the daemon. */
export function telemetryEnv(o: TelemetryEnvOptions): Record<string, string> {
  const interval = String(Math.max(500, Math.round(o.intervalMs)));
  return {
    CLAUDE_CODE_ENABLE_TELEMETRY: "1",
    OTEL_METRICS_EXPORTER: "otlp",
    OTEL_LOGS_EXPORTER: "otlp",
    OTEL_EXPORTER_OTLP_PROTOCOL: "http/json",
    OTEL_EXPORTER_OTLP_ENDPOINT: `${o.url.replace(/\/+$/, "")}${OTLP_PATH}`,
    OTEL_EXPORTER_OTLP_HEADERS: `Authorization=Bearer ${o.token}`,
    // Cumulative counters make every export carry the whole total: a lost or repeated export, or a daemon
    // restart, can then neither lose nor double anything (the daemon keeps the latest value per series).
    OTEL_EXPORTER_OTLP_METRICS_TEMPORALITY_PREFERENCE: "cumulative",
    OTEL_METRIC_EXPORT_INTERVAL: interval,
    OTEL_LOGS_EXPORT_INTERVAL: interval,
    OTEL_RESOURCE_ATTRIBUTES: [`${RUNNER_ATTR}=${o.runnerId}`, o.resourceAttributes].filter(Boolean).join(
      ",",
    ),
  };
}

const truthy = (v: string | undefined) => v !== undefined && /^(1|true|yes|on)$/i.test(v.trim());

/**
 * The user's own telemetry: enabled, with a metrics or logs exporter other than `none`, in the environment
 * or in the `env` of a Claude Code settings file. Then Stratavore leaves it alone (their exporter keeps
 * working) and accounts that session from its transcripts. Returns where it goes, or undefined.
 */
export function userTelemetry(
  env: Record<string, string | undefined>,
  settingsEnvs: Record<string, unknown>[] = [],
): { endpoint: string } | undefined {
  const merged: Record<string, string | undefined> = { ...env };
  for (const e of settingsEnvs) {
    for (const [k, v] of Object.entries(e)) if (typeof v === "string") merged[k] = v;
  }
  if (!truthy(merged.CLAUDE_CODE_ENABLE_TELEMETRY)) return undefined;
  const exporters = [merged.OTEL_METRICS_EXPORTER, merged.OTEL_LOGS_EXPORTER]
    .flatMap((v) => (v ?? "").split(","))
    .map((v) => v.trim())
    .filter((v) => v && v !== "none");
  if (exporters.length === 0) return undefined;
  const endpoint = merged.OTEL_EXPORTER_OTLP_METRICS_ENDPOINT ?? merged.OTEL_EXPORTER_OTLP_LOGS_ENDPOINT ??
    merged.OTEL_EXPORTER_OTLP_ENDPOINT;
  return { endpoint: exporters.includes("otlp") && endpoint ? endpoint : [...new Set(exporters)].join(",") };
}

/** The Claude Code settings files whose `env` applies to a session in `cwd` (managed, project, user). */
export function settingsFiles(cwd: string, configDir: string, os = Deno.build.os): string[] {
  const managed = os === "darwin"
    ? "/Library/Application Support/ClaudeCode/managed-settings.json"
    : os === "windows"
    ? "C:\\ProgramData\\ClaudeCode\\managed-settings.json"
    : "/etc/claude-code/managed-settings.json";
  const sep = os === "windows" ? "\\" : "/";
  return [
    `${configDir}${sep}settings.json`,
    `${cwd}${sep}.claude${sep}settings.json`,
    `${cwd}${sep}.claude${sep}settings.local.json`,
    managed,
  ];
}

/** The `env` objects of the settings files that exist and parse; unreadable files are skipped. */
export async function settingsEnvs(paths: string[]): Promise<Record<string, unknown>[]> {
  const out: Record<string, unknown>[] = [];
  for (const p of paths) {
    try {
      const data = JSON.parse(await Deno.readTextFile(p));
      if (data && typeof data.env === "object" && !Array.isArray(data.env)) out.push(data.env);
    } catch { /* absent or not JSON: Claude Code ignores it too */ }
  }
  return out;
}

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
