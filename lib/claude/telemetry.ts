/**
 * Claude Code's OpenTelemetry, as Stratavore sets it up: the environment that points a session's exporters at
 * the daemon, and how to tell that the user already exports telemetry elsewhere. What the daemon reads from
 * the export is in lib/claude/telemetry_usage.ts, apart because the agent loads this module and that one
 * needs node:crypto (~4 MB of the agent's RSS).
 */

/** The resource attribute the agent sets on a session's telemetry: the runner it belongs to. */
export const RUNNER_ATTR = "stratavore.runner.id";

/** Where under the daemon's URL the OTLP/HTTP receiver is (exporters append /v1/metrics, /v1/logs). */
export const OTLP_PATH = "/api/v1/otlp";

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
