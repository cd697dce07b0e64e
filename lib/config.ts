/**
 * Every setting in one strict zod schema. Values come from flags, then the environment, then an optional
 * `$STRATAVORE_HOME/config.json`, then defaults; each value is validated where it came from, so a wrong
 * one is reported with its setting name, its problem and its source.
 */
import { z } from "zod";
import { priceOverridesSchema } from "./claude/pricing.ts";
import { AppError } from "./errors.ts";
import { formatDuration, parseDuration } from "./duration.ts";
import { parseListen } from "./listen.ts";
import { GLOB_LIMITS, globListProblem } from "./glob.ts";

const listen = z.string().refine((v) => parseListen(v) !== undefined, {
  message: 'expected host:port such as "127.0.0.1:7890"',
});

/** Durations accept "10s"-style text (or a number of milliseconds in config.json) and hold milliseconds. */
const duration = (min: number) =>
  z.union([z.string(), z.number()]).transform((v, ctx) => {
    const ms = typeof v === "number" ? v : parseDuration(v);
    if (ms === undefined || !Number.isFinite(ms)) {
      ctx.addIssue({ code: "custom", message: 'expected a duration such as "500ms", "10s", "2m" or "1h"' });
      return z.NEVER;
    }
    if (ms < min) {
      ctx.addIssue({ code: "custom", message: `must be at least ${min}ms` });
      return z.NEVER;
    }
    return ms;
  });

const urlWithScheme = (schemes: string[], example: string) =>
  z.string().refine((v) => {
    try {
      return schemes.includes(new URL(v).protocol.replace(/:$/, ""));
    } catch {
      return false;
    }
  }, { message: `expected a URL such as "${example}"` });

const integer = (min: number, max: number) =>
  z.union([z.string(), z.number()]).transform((v, ctx) => {
    const n = typeof v === "number" ? v : /^\s*-?\d+\s*$/.test(v) ? Number(v) : NaN;
    if (!Number.isInteger(n) || n < min || n > max) {
      ctx.addIssue({ code: "custom", message: `expected a whole number from ${min} to ${max}` });
      return z.NEVER;
    }
    return n;
  });

const bool = z.union([z.boolean(), z.string()]).transform((v, ctx) => {
  if (typeof v === "boolean") return v;
  if (/^(1|true|yes|on)$/i.test(v)) return true;
  if (/^(0|false|no|off)$/i.test(v)) return false;
  ctx.addIssue({ code: "custom", message: "expected true or false" });
  return z.NEVER;
});

export const LOG_LEVELS = ["debug", "info", "warn", "error"] as const;

export const configSchema = z.strictObject({
  home: z.string().min(1),
  listen: listen,
  metricsListen: listen,
  databaseUrl: urlWithScheme(["postgres", "postgresql"], "postgres://user@127.0.0.1:5432/stratavore")
    .optional(),
  amqpUrl: urlWithScheme(["amqp", "amqps"], "amqp://guest:guest@127.0.0.1:5672").optional(),
  telegramBotToken: z.string().regex(/^\d+:[A-Za-z0-9_-]+$/, "expected a bot token such as 123456:ABC-DEF")
    .optional(),
  telegramChatId: z.string().regex(
    /^(-?\d+|@[A-Za-z0-9_]{5,})$/,
    "expected a numeric chat id or @channelname",
  )
    .optional(),
  telegramApiRoot: urlWithScheme(["http", "https"], "https://api.telegram.org").optional(),
  url: urlWithScheme(["http", "https"], "http://127.0.0.1:7890").optional(),
  token: z.string().min(16, "expected the API token (at least 16 characters)").optional(),
  logLevel: z.enum(LOG_LEVELS),
  logFormat: z.enum(["auto", "json", "text"]),
  logFile: z.string().min(1).optional(),
  heartbeatInterval: duration(100),
  heartbeatTtl: duration(500),
  /** How long a runner's token keeps working after the runner ended (for the agent's last report). */
  runnerTokenGrace: duration(0),
  reconcileInterval: duration(100),
  requestTimeout: duration(100),
  shutdownTimeout: duration(100),
  outboxMaxAttempts: integer(1, 1000),
  outboxRetention: duration(1000),
  outboxPollInterval: duration(10),
  outboxLease: duration(500),
  outboxRetryDelay: duration(10),
  /** Bytes of terminal output kept for a detached interactive session (replayed on attach). */
  scrollback: integer(16 * 1024, 256 * 1024 * 1024),
  /** Where runners' git worktrees go, outside every repository (default: $STRATAVORE_HOME/worktrees). */
  worktrees: z.string().min(1).optional(),
  /** The key that leaves `attach` without ending the session: ctrl-] (default) or ctrl-<letter>. */
  detachKey: z.string().regex(/^ctrl-([a-z\]\\^_])$/i, 'expected a control key such as "ctrl-]" or "ctrl-q"'),
  budgetTimezone: z.string().refine((tz) => {
    // The default needs no check: building a DateTimeFormat loads the time-zone data, 16 ms of every command.
    if (tz === "UTC") return true;
    try {
      new Intl.DateTimeFormat("en", { timeZone: tz });
      return true;
    } catch {
      return false;
    }
  }, { message: 'expected an IANA time zone such as "UTC" or "Europe/Berlin"' }),
  /** Per-model prices (USD per million tokens) that win over the built-in table, by model-id prefix. */
  prices: z.union([z.string(), z.record(z.string(), z.unknown())]).transform((v, ctx) => {
    let value: unknown = v;
    if (typeof v === "string") {
      try {
        value = JSON.parse(v);
      } catch {
        ctx.addIssue({
          code: "custom",
          message: 'expected JSON such as {"claude-opus-4": {"input": 15, …}}',
        });
        return z.NEVER;
      }
    }
    const r = priceOverridesSchema.safeParse(value);
    if (!r.success) {
      const i = r.error.issues[0];
      ctx.addIssue({ code: "custom", message: `${i.path.join(".") || "prices"}: ${i.message}` });
      return z.NEVER;
    }
    return r.data;
  }).optional(),
  /** Claude Code sessions export their telemetry (cost, tokens, API calls) to the daemon. */
  claudeTelemetry: bool,
  /** How often a session exports it. */
  telemetryInterval: duration(500),
  notifyMinPriority: z.enum(["min", "low", "default", "high", "urgent"]),
  notifyBotCommands: bool,
  /** Approve / Deny buttons under permission requests in the Telegram chat. */
  telegramApprovals: bool,
  /** Event types that may notify, as comma-separated globs (`runner.*,budget.*`). */
  notifyEvents: z.string().transform((v) => v.replace(/\s+/g, "")).superRefine((v, ctx) => {
    const problem = globListProblem(v);
    if (problem) ctx.addIssue({ code: "custom", message: problem });
  }),
  notifyRetryDelay: duration(10),
  notifyBotCheck: duration(100),
  notifyMaxAttempts: integer(1, 1000),
  /**
   * Host names (besides IP addresses and localhost) the API and metrics ports answer for: the DNS names a
   * proxy or other machines use to reach them. Anything else is refused (DNS rebinding).
   */
  allowedHosts: z.union([z.string(), z.array(z.string())]).transform((v, ctx) => {
    const names = (typeof v === "string" ? v.split(",") : v).map((s) => s.trim().toLowerCase()).filter(
      Boolean,
    );
    const label = /^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/;
    if (names.length > 64 || names.some((n) => n.length > 253 || !n.split(".").every((l) => label.test(l)))) {
      ctx.addIssue({
        code: "custom",
        message: 'expected comma-separated host names such as "stratavore.lan"',
      });
      return z.NEVER;
    }
    return names;
  }),
  /**
   * Environment variables sessions get beyond the built-in allowlist (lib/session_env.ts): names or globs,
   * comma-separated. Secret settings never pass.
   */
  sessionEnv: z.string().max(2000).transform((v) => v.replace(/\s+/g, "")).refine(
    (v) =>
      /^[A-Za-z0-9_*()]+(,[A-Za-z0-9_*()]+)*$/.test(v) &&
      v.split(",").every((p) => p.split("*").length - 1 <= GLOB_LIMITS.stars),
    { message: 'expected comma-separated variable names or globs such as "GITHUB_TOKEN,NPM_*"' },
  ).optional(),
  /** What a launch does while the account's subscription window is over the threshold or refusing. */
  limitPolicy: z.enum(["allow", "refuse", "queue"]),
  /** Percent of a window above which the launch policy applies. */
  limitThreshold: integer(1, 100),
  /** Percents at which limits.warning is raised, once per window. */
  limitAlerts: z.union([z.string(), z.array(z.number())]).transform((v, ctx) => {
    const parts = typeof v === "string" ? v.split(",").map((p) => p.trim()).filter(Boolean).map(Number) : v;
    if (parts.some((n) => !Number.isInteger(n) || n < 1 || n > 100)) {
      ctx.addIssue({ code: "custom", message: 'expected whole percents from 1 to 100 such as "80,95"' });
      return z.NEVER;
    }
    return [...new Set(parts)].sort((a, b) => a - b);
  }),
  /** Headless runs cut off by the limit are continued (claude --resume) after the reset. */
  limitResume: bool,
  /** The prompt a continued run is given. */
  limitResumeMessage: z.string().min(1).max(10_000),
  /** Pause between two launches or resumes started by a reset. */
  limitStagger: duration(0),
  /** At most this many continued runs a day (UTC). */
  limitResumePerDay: integer(0, 100_000),
});

export type Config = z.output<typeof configSchema>;
export type ConfigKey = keyof Config;

interface Meta {
  env?: string;
  flag?: string;
  secret?: "full" | "url";
  help: string;
}

/** Where each setting may come from; the schema above stays the one source of what is valid. */
export const CONFIG_META: Record<ConfigKey, Meta> = {
  home: { env: "STRATAVORE_HOME", flag: "home", help: "where data, logs and tokens live" },
  listen: { env: "STRATAVORE_LISTEN", flag: "listen", help: "API listen address" },
  metricsListen: {
    env: "STRATAVORE_METRICS_LISTEN",
    flag: "metrics-listen",
    help: "Prometheus listen address",
  },
  databaseUrl: {
    env: "DATABASE_URL",
    flag: "database-url",
    secret: "url",
    help: "PostgreSQL server (unset: embedded PGlite)",
  },
  amqpUrl: { env: "AMQP_URL", flag: "amqp-url", secret: "url", help: "RabbitMQ (unset: in-process events)" },
  telegramBotToken: { env: "TELEGRAM_BOT_TOKEN", secret: "full", help: "Telegram bot token" },
  telegramChatId: { env: "TELEGRAM_CHAT_ID", help: "Telegram chat to notify" },
  telegramApiRoot: { env: "TELEGRAM_API_ROOT", help: "Bot API server (default https://api.telegram.org)" },
  url: { env: "STRATAVORE_URL", flag: "url", help: "daemon URL for the CLI and agent" },
  token: { env: "STRATAVORE_TOKEN", flag: "token", secret: "full", help: "API token for the CLI and agent" },
  logLevel: { env: "STRATAVORE_LOG_LEVEL", flag: "log-level", help: "debug, info, warn or error" },
  logFormat: { env: "STRATAVORE_LOG_FORMAT", flag: "log-format", help: "auto, json or text" },
  logFile: {
    env: "STRATAVORE_LOG_FILE",
    flag: "log-file",
    help: "daemon log file, rotated at 10 MB, 5 kept (unset: stderr only)",
  },
  heartbeatInterval: { env: "STRATAVORE_HEARTBEAT_INTERVAL", help: "how often agents heartbeat" },
  heartbeatTtl: { env: "STRATAVORE_HEARTBEAT_TTL", help: "silence after which a runner is failed" },
  runnerTokenGrace: {
    env: "STRATAVORE_RUNNER_TOKEN_GRACE",
    help: "how long a runner's token still works after it ended (its last report)",
  },
  reconcileInterval: { env: "STRATAVORE_RECONCILE_INTERVAL", help: "how often stale runners are looked for" },
  requestTimeout: { env: "STRATAVORE_REQUEST_TIMEOUT", help: "API request timeout" },
  shutdownTimeout: { env: "STRATAVORE_SHUTDOWN_TIMEOUT", help: "graceful shutdown limit before exit" },
  outboxMaxAttempts: {
    env: "STRATAVORE_OUTBOX_MAX_ATTEMPTS",
    help: "publish attempts before dead-lettering",
  },
  outboxRetention: { env: "STRATAVORE_OUTBOX_RETENTION", help: "how long published events are kept" },
  outboxPollInterval: {
    env: "STRATAVORE_OUTBOX_POLL_INTERVAL",
    help: "relay and event-stream backstop poll (they wake on NOTIFY and when a retry falls due)",
  },
  outboxLease: { env: "STRATAVORE_OUTBOX_LEASE", help: "how long a claimed event is reserved" },
  outboxRetryDelay: {
    env: "STRATAVORE_OUTBOX_RETRY_DELAY",
    help: "first retry delay of a refused event (doubles)",
  },
  budgetTimezone: { env: "STRATAVORE_BUDGET_TIMEZONE", help: "time zone of budget periods" },
  scrollback: {
    env: "STRATAVORE_SCROLLBACK",
    help: "bytes of terminal output kept for attach (detached sessions)",
  },
  detachKey: { env: "STRATAVORE_DETACH_KEY", help: "key that detaches `attach` (default ctrl-])" },
  worktrees: {
    env: "STRATAVORE_WORKTREES",
    help:
      "folder for runners' git worktrees, as <folder>/<project>/<name> (default $STRATAVORE_HOME/worktrees)",
  },
  prices: {
    env: "STRATAVORE_PRICES",
    help:
      'per-model prices overriding the built-in table, e.g. {"claude-opus-4": {"input": 15, "output": 75, …}}',
  },
  claudeTelemetry: {
    env: "STRATAVORE_CLAUDE_TELEMETRY",
    help: "Claude Code sessions send their telemetry (their own costs) to the daemon",
  },
  telemetryInterval: {
    env: "STRATAVORE_TELEMETRY_INTERVAL",
    help: "how often a Claude Code session exports its telemetry",
  },
  notifyMinPriority: { env: "STRATAVORE_NOTIFY_MIN_PRIORITY", help: "lowest priority sent to Telegram" },
  notifyBotCommands: {
    env: "STRATAVORE_NOTIFY_BOT_COMMANDS",
    help: "answer /status and /runners in the chat",
  },
  notifyEvents: { env: "STRATAVORE_NOTIFY_EVENTS", help: "event types that notify (comma-separated globs)" },
  telegramApprovals: {
    env: "STRATAVORE_TELEGRAM_APPROVALS",
    help:
      "Approve/Deny buttons under permission requests in the Telegram chat (projects with --approvals remote)",
  },
  notifyRetryDelay: {
    env: "STRATAVORE_NOTIFY_RETRY_DELAY",
    help: "first retry delay of a failed Telegram send (doubles)",
  },
  notifyBotCheck: {
    env: "STRATAVORE_NOTIFY_BOT_CHECK",
    help: "how often each daemon checks whether it is the one answering bot commands (takeover time)",
  },
  allowedHosts: {
    env: "STRATAVORE_ALLOWED_HOSTS",
    help: "host names the API and metrics ports answer for, besides IP addresses and localhost",
  },
  sessionEnv: {
    env: "STRATAVORE_SESSION_ENV",
    help: "environment variables sessions get beyond the built-in allowlist (names or globs)",
  },
  notifyMaxAttempts: {
    env: "STRATAVORE_NOTIFY_MAX_ATTEMPTS",
    help: "Telegram send attempts before giving up",
  },
  limitPolicy: {
    env: "STRATAVORE_LIMIT_POLICY",
    help: "launches while a subscription window is full: allow, refuse or queue (projects may override)",
  },
  limitThreshold: {
    env: "STRATAVORE_LIMIT_THRESHOLD",
    help: "percent of a subscription window above which the launch policy applies",
  },
  limitAlerts: { env: "STRATAVORE_LIMIT_ALERTS", help: "percents that raise limits.warning, e.g. 80,95" },
  limitResume: {
    env: "STRATAVORE_LIMIT_RESUME",
    help: "continue headless runs cut off by the usage limit after the reset",
  },
  limitResumeMessage: { env: "STRATAVORE_LIMIT_RESUME_MESSAGE", help: "the prompt a continued run gets" },
  limitStagger: { env: "STRATAVORE_LIMIT_STAGGER", help: "pause between launches started at a reset" },
  limitResumePerDay: { env: "STRATAVORE_LIMIT_RESUME_PER_DAY", help: "most continued runs per day" },
};

const DURATION_KEYS = new Set<ConfigKey>([
  "heartbeatInterval",
  "heartbeatTtl",
  "runnerTokenGrace",
  "reconcileInterval",
  "requestTimeout",
  "shutdownTimeout",
  "outboxRetention",
  "outboxPollInterval",
  "outboxLease",
  "outboxRetryDelay",
  "notifyRetryDelay",
  "notifyBotCheck",
  "telemetryInterval",
  "limitStagger",
]);

type RawDefaults = { [K in ConfigKey]?: z.input<typeof configSchema>[K] };

function defaults(env: Record<string, string | undefined>, os: string): RawDefaults {
  const userHome = os === "windows" ? (env.USERPROFILE ?? env.HOME) : (env.HOME ?? env.USERPROFILE);
  return {
    home: userHome ? joinPath(userHome, ".stratavore", os) : ".stratavore",
    listen: "127.0.0.1:7890",
    metricsListen: "127.0.0.1:9091",
    logLevel: "info",
    logFormat: "auto",
    heartbeatInterval: "10s",
    heartbeatTtl: "30s",
    runnerTokenGrace: "60s",
    allowedHosts: [],
    reconcileInterval: "30s",
    requestTimeout: "30s",
    shutdownTimeout: "10s",
    outboxMaxAttempts: 10,
    outboxRetention: "7d",
    outboxPollInterval: "30s",
    outboxLease: "30s",
    outboxRetryDelay: "1s",
    budgetTimezone: "UTC",
    scrollback: 1024 * 1024,
    detachKey: "ctrl-]",
    claudeTelemetry: true,
    telemetryInterval: "5s",
    notifyMinPriority: "low",
    notifyBotCommands: false,
    telegramApprovals: true,
    notifyEvents: "runner.*,budget.*,limits.*,project.quota_exceeded,daemon.*,event.dead_lettered",
    notifyRetryDelay: "1s",
    notifyBotCheck: "5s",
    notifyMaxAttempts: 10,
    limitPolicy: "allow",
    limitThreshold: 95,
    limitAlerts: "80,95",
    limitResume: true,
    limitResumeMessage: "The usage limit has reset. Continue the task where you left off.",
    limitStagger: "30s",
    limitResumePerDay: 20,
  };
}

function joinPath(dir: string, name: string, os: string): string {
  const sep = os === "windows" ? "\\" : "/";
  return dir.endsWith("/") || dir.endsWith("\\") ? dir + name : dir + sep + name;
}

export interface ConfigSources {
  /** Flag values by config key (commander's parsed options, already mapped). */
  flags?: Partial<Record<ConfigKey, string | number | boolean | undefined>>;
  env?: Record<string, string | undefined>;
  /** Reads a file's text or returns undefined when it does not exist. */
  readFile?: (path: string) => string | undefined;
  os?: string;
}

export type ConfigSource = "flag" | "environment" | "config file" | "default";

export interface LoadedConfig {
  config: Config;
  sources: Record<ConfigKey, ConfigSource>;
  file: string;
}

function describeSource(key: ConfigKey, source: ConfigSource, file: string): string {
  const meta = CONFIG_META[key];
  switch (source) {
    case "flag":
      return `flag --${meta.flag ?? key.replace(/[A-Z]/g, (c) => "-" + c.toLowerCase())}`;
    case "environment":
      return `environment variable ${meta.env}`;
    case "config file":
      return `${file}, key "${key}"`;
    default:
      return "the default";
  }
}

function shown(value: unknown, key: ConfigKey): string {
  if (CONFIG_META[key].secret) return "(hidden)";
  return JSON.stringify(value);
}

/** Resolve every setting; throws AppError("config_invalid") with one line naming setting, problem and source. */
export function loadConfig(src: ConfigSources = {}): LoadedConfig {
  const env = src.env ?? Deno.env.toObject();
  const os = src.os ?? Deno.build.os;
  const flags = src.flags ?? {};
  const raw: Record<string, unknown> = {};
  const sources = {} as Record<ConfigKey, ConfigSource>;
  const keys = Object.keys(CONFIG_META) as ConfigKey[];

  const take = (key: ConfigKey, value: unknown, source: ConfigSource) => {
    if (value === undefined || value === "" || key in raw) return;
    raw[key] = value;
    sources[key] = source;
  };

  for (const key of keys) take(key, flags[key], "flag");
  for (const key of keys) {
    const name = CONFIG_META[key].env;
    if (name) take(key, env[name], "environment");
  }

  // The home decides where config.json lives, so it is resolved before the file is read.
  const dflt = defaults(env, os);
  const home = (raw.home as string | undefined) ?? (dflt.home as string);
  const file = joinPath(home, "config.json", os);
  const text = (src.readFile ?? readTextIfExists)(file);
  if (text !== undefined) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch (e) {
      throw new AppError("config_invalid", `invalid config file ${file}: ${(e as Error).message}`);
    }
    if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) {
      throw new AppError("config_invalid", `invalid config file ${file}: expected a JSON object of settings`);
    }
    for (const [key, value] of Object.entries(parsed)) {
      if (!(key in CONFIG_META)) {
        throw new AppError(
          "config_invalid",
          `unknown setting "${key}" in ${file}: remove it or use one of ${keys.join(", ")}`,
        );
      }
      if (key === "home") {
        throw new AppError(
          "config_invalid",
          `setting "home" cannot be set in ${file}: use STRATAVORE_HOME or --home`,
        );
      }
      take(key as ConfigKey, value, "config file");
    }
  }
  for (const key of keys) take(key, dflt[key], "default");

  const shape = configSchema.shape;
  const out: Record<string, unknown> = {};
  for (const key of keys) {
    if (!(key in raw)) continue;
    const r = shape[key].safeParse(raw[key]);
    if (!r.success) {
      const problem = r.error.issues[0]?.message ?? "invalid value";
      const name = sources[key] === "environment" ? CONFIG_META[key].env : key;
      throw new AppError(
        "config_invalid",
        `invalid setting ${name}=${shown(raw[key], key)} (from ${
          describeSource(key, sources[key], file)
        }): ${problem}`,
      );
    }
    out[key] = r.data;
  }
  // Outputs are valid inputs (durations as milliseconds), so the whole object is checked once more.
  return { config: configSchema.parse(out), sources, file };
}

function readTextIfExists(path: string): string | undefined {
  try {
    return Deno.readTextFileSync(path);
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return undefined;
    throw new AppError("config_invalid", `cannot read config file ${path}: ${(e as Error).message}`);
  }
}

/** The effective settings with secrets masked, for `stratavore config`. */
export function describeConfig(loaded: LoadedConfig): { key: string; value: string; source: string }[] {
  return (Object.keys(CONFIG_META) as ConfigKey[]).map((key) => {
    const value = loaded.config[key];
    const meta = CONFIG_META[key];
    let text: string;
    if (value === undefined) text = "";
    else if (meta.secret === "full") text = "********";
    else if (meta.secret === "url") text = maskUrl(String(value));
    else if (DURATION_KEYS.has(key)) text = formatDuration(value as number);
    else if (typeof value === "object") text = JSON.stringify(value);
    else text = String(value);
    return {
      key,
      value: text,
      source: loaded.sources[key] ? describeSource(key, loaded.sources[key], loaded.file) : "",
    };
  });
}

export function maskUrl(text: string): string {
  try {
    const u = new URL(text);
    if (u.password) u.password = "****";
    return u.toString();
  } catch {
    return "********";
  }
}
