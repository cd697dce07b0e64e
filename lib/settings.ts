/**
 * Every setting, once: its rule (a zod schema), its default, its help text and where it may come from (an
 * environment variable, the `$STRATAVORE_HOME/config.json` key, which is the setting's name, and a flag).
 * lib/config.ts builds the schema and the loader from this table and main.ts builds the flags from it.
 *
 * This module loads no zod: `stratavore --help` and every command's parse read it (zod costs ~19 ms of each
 * start, docs/performance.md). Each rule is a function of zod that lib/config.ts calls with it.
 */
import type { z } from "zod";
import type { priceOverridesSchema } from "./claude/pricing.ts";
import { formatDuration, parseDuration } from "./duration.ts";
import { GLOB_LIMITS, globListProblem } from "./glob.ts";
import { parseListen } from "./listen.ts";

/** What a rule is built with (lib/config.ts passes the real modules). */
export interface RuleKit {
  z: typeof z;
  priceOverrides: typeof priceOverridesSchema;
}

export interface Setting<S extends z.ZodType = z.ZodType> {
  rule: (kit: RuleKit) => S;
  help: string;
  /** Environment variable. */
  env?: string;
  /** Commander usage of its flag, e.g. "--listen <addr>"; the option's name is the setting's (camelCase). */
  flag?: string;
  /** Choices of an enum setting, for its flag. */
  choices?: readonly string[];
  /** The value when no source sets it (as config.json would hold it), or a function of the environment. */
  default?: z.input<S> | ((env: Record<string, string | undefined>, os: string) => z.input<S>);
  /** How the default reads in `--help` when it is not the value itself. */
  defaultText?: string;
  /** What happens when a setting without a default is not set. */
  unset?: string;
  secret?: "full" | "url";
  /** How `stratavore config` shows the value (default: as text, objects as JSON). */
  show?: (value: z.output<S>) => string;
}

/** A table row with its types kept: the rule's output types the setting, the flag's text types its option. */
function setting<S extends z.ZodType, const F extends string | undefined = undefined>(
  s: Setting<S> & { flag?: F; default?: NoInfer<Setting<S>["default"]>; show?: NoInfer<Setting<S>["show"]> },
): Setting<S> & { flag: F } {
  return s as Setting<S> & { flag: F };
}

// ---- rules shared by several settings -----------------------------------------------------------

const listen = ({ z }: RuleKit) =>
  z.string().refine((v) => parseListen(v) !== undefined, {
    message: 'expected host:port such as "127.0.0.1:7890"',
  });

/** Durations accept "10s"-style text (or a number of milliseconds in config.json) and hold milliseconds. */
const duration = (min: number) => ({
  rule: ({ z }: RuleKit) =>
    z.union([z.string(), z.number()]).transform((v, ctx) => {
      const ms = typeof v === "number" ? v : parseDuration(v);
      if (ms === undefined || !Number.isFinite(ms)) {
        ctx.addIssue({
          code: "custom",
          message: 'expected a duration such as "500ms", "10s", "2m", "1h" or "1h30m" (largest unit first)',
        });
        return z.NEVER;
      }
      if (ms < min) {
        ctx.addIssue({ code: "custom", message: `must be at least ${min}ms` });
        return z.NEVER;
      }
      return ms;
    }),
  show: formatDuration,
});

const urlWithScheme = (schemes: string[], example: string) => ({ z }: RuleKit) =>
  z.string().refine((v) => {
    try {
      return schemes.includes(new URL(v).protocol.replace(/:$/, ""));
    } catch {
      return false;
    }
  }, { message: `expected a URL such as "${example}"` }).optional();

const integer = (min: number, max: number) => ({ z }: RuleKit) =>
  z.union([z.string(), z.number()]).transform((v, ctx) => {
    const n = typeof v === "number" ? v : /^\s*-?\d+\s*$/.test(v) ? Number(v) : NaN;
    if (!Number.isInteger(n) || n < min || n > max) {
      ctx.addIssue({ code: "custom", message: `expected a whole number from ${min} to ${max}` });
      return z.NEVER;
    }
    return n;
  });

const bool = ({ z }: RuleKit) =>
  z.union([z.boolean(), z.string()]).transform((v, ctx) => {
    if (typeof v === "boolean") return v;
    if (/^(1|true|yes|on)$/i.test(v)) return true;
    if (/^(0|false|no|off)$/i.test(v)) return false;
    ctx.addIssue({ code: "custom", message: "expected true or false" });
    return z.NEVER;
  });

export const LOG_LEVELS = ["debug", "info", "warn", "error"] as const;
export const LOG_FORMATS = ["auto", "json", "text"] as const;

function joinPath(dir: string, name: string, os: string): string {
  const sep = os === "windows" ? "\\" : "/";
  return dir.endsWith("/") || dir.endsWith("\\") ? dir + name : dir + sep + name;
}

/** The data folder when STRATAVORE_HOME and --home are not set: ~/.stratavore (%USERPROFILE% on Windows). */
export function defaultHome(env: Record<string, string | undefined>, os: string): string {
  const userHome = os === "windows" ? (env.USERPROFILE ?? env.HOME) : (env.HOME ?? env.USERPROFILE);
  return userHome ? joinPath(userHome, ".stratavore", os) : ".stratavore";
}

/** `$STRATAVORE_HOME/config.json` of a home. */
export function configFileOf(home: string, os: string): string {
  return joinPath(home, "config.json", os);
}

// ---- the table ----------------------------------------------------------------------------------

export const SETTINGS = {
  home: setting({
    rule: ({ z }) => z.string().min(1),
    env: "STRATAVORE_HOME",
    flag: "--home <dir>",
    default: defaultHome,
    defaultText: "~/.stratavore",
    help: "data folder: data, logs and tokens",
  }),
  listen: setting({
    rule: listen,
    env: "STRATAVORE_LISTEN",
    flag: "--listen <addr>",
    default: "127.0.0.1:7890",
    help: "API address",
  }),
  metricsListen: setting({
    rule: listen,
    env: "STRATAVORE_METRICS_LISTEN",
    flag: "--metrics-listen <addr>",
    default: "127.0.0.1:9091",
    help: "Prometheus metrics address",
  }),
  databaseUrl: setting({
    rule: urlWithScheme(["postgres", "postgresql"], "postgres://user@127.0.0.1:5432/stratavore"),
    env: "DATABASE_URL",
    flag: "--database-url <url>",
    secret: "url",
    help: "PostgreSQL URL",
    unset: "embedded PGlite",
  }),
  amqpUrl: setting({
    rule: urlWithScheme(["amqp", "amqps"], "amqp://guest:guest@127.0.0.1:5672"),
    env: "AMQP_URL",
    flag: "--amqp-url <url>",
    secret: "url",
    help: "RabbitMQ URL",
    unset: "in-process events",
  }),
  telegramBotToken: setting({
    rule: ({ z }) =>
      z.string().regex(/^\d+:[A-Za-z0-9_-]+$/, "expected a bot token such as 123456:ABC-DEF").optional(),
    env: "TELEGRAM_BOT_TOKEN",
    secret: "full",
    help: "Telegram bot token",
  }),
  telegramChatId: setting({
    rule: ({ z }) =>
      z.string().regex(/^(-?\d+|@[A-Za-z0-9_]{5,})$/, "expected a numeric chat id or @channelname")
        .optional(),
    env: "TELEGRAM_CHAT_ID",
    help: "Telegram chat to notify",
  }),
  telegramApiRoot: setting({
    rule: urlWithScheme(["http", "https"], "https://api.telegram.org"),
    env: "TELEGRAM_API_ROOT",
    help: "Bot API server (default https://api.telegram.org)",
  }),
  url: setting({
    rule: urlWithScheme(["http", "https"], "http://127.0.0.1:7890"),
    env: "STRATAVORE_URL",
    flag: "--url <url>",
    help: "daemon URL for the CLI and agent",
    unset: "$STRATAVORE_HOME/daemon.json",
  }),
  token: setting({
    rule: ({ z }) => z.string().min(16, "expected the API token (at least 16 characters)").optional(),
    env: "STRATAVORE_TOKEN",
    flag: "--token <token>",
    secret: "full",
    help: "API token for the CLI and agent",
    unset: "$STRATAVORE_HOME/api-token",
  }),
  logLevel: setting({
    rule: ({ z }) => z.enum(LOG_LEVELS),
    env: "STRATAVORE_LOG_LEVEL",
    flag: "--log-level <level>",
    choices: LOG_LEVELS,
    default: "info",
    help: "log level",
  }),
  logFormat: setting({
    rule: ({ z }) => z.enum(LOG_FORMATS),
    env: "STRATAVORE_LOG_FORMAT",
    flag: "--log-format <format>",
    choices: LOG_FORMATS,
    default: "auto",
    help: "log format",
  }),
  logFile: setting({
    rule: ({ z }) => z.string().min(1).optional(),
    env: "STRATAVORE_LOG_FILE",
    flag: "--log-file <path>",
    help: "also log to this file, rotated at 10 MB, 5 kept",
    unset: "stderr only",
  }),
  heartbeatInterval: setting({
    ...duration(100),
    env: "STRATAVORE_HEARTBEAT_INTERVAL",
    default: "10s",
    help: "how often agents heartbeat",
  }),
  heartbeatTtl: setting({
    ...duration(500),
    env: "STRATAVORE_HEARTBEAT_TTL",
    default: "30s",
    help: "silence after which a runner is failed",
  }),
  runnerTokenGrace: setting({
    ...duration(0),
    env: "STRATAVORE_RUNNER_TOKEN_GRACE",
    default: "60s",
    help: "how long a runner's token still works after it ended (its last report)",
  }),
  reconcileInterval: setting({
    ...duration(100),
    env: "STRATAVORE_RECONCILE_INTERVAL",
    default: "30s",
    help: "how often stale runners are looked for",
  }),
  requestTimeout: setting({
    ...duration(100),
    env: "STRATAVORE_REQUEST_TIMEOUT",
    default: "30s",
    help: "API request timeout",
  }),
  shutdownTimeout: setting({
    ...duration(100),
    env: "STRATAVORE_SHUTDOWN_TIMEOUT",
    default: "10s",
    help: "graceful shutdown limit before exit",
  }),
  outboxMaxAttempts: setting({
    rule: integer(1, 1000),
    env: "STRATAVORE_OUTBOX_MAX_ATTEMPTS",
    default: 10,
    help: "publish attempts before dead-lettering",
  }),
  outboxRetention: setting({
    ...duration(1000),
    env: "STRATAVORE_OUTBOX_RETENTION",
    default: "7d",
    help: "how long published events are kept",
  }),
  outboxPollInterval: setting({
    ...duration(10),
    env: "STRATAVORE_OUTBOX_POLL_INTERVAL",
    default: "30s",
    help: "relay and event-stream backstop poll (they wake on NOTIFY and when a retry falls due)",
  }),
  outboxLease: setting({
    ...duration(500),
    env: "STRATAVORE_OUTBOX_LEASE",
    default: "30s",
    help: "how long a claimed event is reserved",
  }),
  outboxRetryDelay: setting({
    ...duration(10),
    env: "STRATAVORE_OUTBOX_RETRY_DELAY",
    default: "1s",
    help: "first retry delay of a refused event (doubles)",
  }),
  scrollback: setting({
    rule: integer(16 * 1024, 256 * 1024 * 1024),
    env: "STRATAVORE_SCROLLBACK",
    default: 1024 * 1024,
    help: "bytes of terminal output kept for attach (detached sessions)",
  }),
  worktrees: setting({
    rule: ({ z }) => z.string().min(1).optional(),
    env: "STRATAVORE_WORKTREES",
    help:
      "folder for runners' git worktrees, as <folder>/<project>/<name> (default $STRATAVORE_HOME/worktrees)",
  }),
  detachKey: setting({
    rule: ({ z }) =>
      z.string().regex(/^ctrl-([a-z\]\\^_])$/i, 'expected a control key such as "ctrl-]" or "ctrl-q"'),
    env: "STRATAVORE_DETACH_KEY",
    default: "ctrl-]",
    help: "key that detaches `attach`",
  }),
  budgetTimezone: setting({
    rule: ({ z }) =>
      z.string().refine((tz) => {
        // The default needs no check: building a DateTimeFormat loads the time-zone data, 16 ms of every command.
        if (tz === "UTC") return true;
        try {
          new Intl.DateTimeFormat("en", { timeZone: tz });
          return true;
        } catch {
          return false;
        }
      }, { message: 'expected an IANA time zone such as "UTC" or "Europe/Berlin"' }),
    env: "STRATAVORE_BUDGET_TIMEZONE",
    default: "UTC",
    help: "time zone of budget periods",
  }),
  prices: setting({
    rule: ({ z, priceOverrides }) =>
      z.union([z.string(), z.record(z.string(), z.unknown())]).transform((v, ctx) => {
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
        const r = priceOverrides.safeParse(value);
        if (!r.success) {
          const i = r.error.issues[0];
          ctx.addIssue({ code: "custom", message: `${i.path.join(".") || "prices"}: ${i.message}` });
          return z.NEVER;
        }
        return r.data;
      }).optional(),
    env: "STRATAVORE_PRICES",
    help:
      'per-model prices overriding the built-in table, e.g. {"claude-opus-4": {"input": 15, "output": 75, …}}',
  }),
  claudeTelemetry: setting({
    rule: bool,
    env: "STRATAVORE_CLAUDE_TELEMETRY",
    default: true,
    help: "Claude Code sessions send their telemetry (their own costs) to the daemon",
  }),
  telemetryInterval: setting({
    ...duration(500),
    env: "STRATAVORE_TELEMETRY_INTERVAL",
    default: "5s",
    help: "how often a Claude Code session exports its telemetry",
  }),
  notifyMinPriority: setting({
    rule: ({ z }) => z.enum(["min", "low", "default", "high", "urgent"]),
    env: "STRATAVORE_NOTIFY_MIN_PRIORITY",
    default: "low",
    help: "lowest priority sent to Telegram",
  }),
  notifyBotCommands: setting({
    rule: bool,
    env: "STRATAVORE_NOTIFY_BOT_COMMANDS",
    default: false,
    help: "answer /status and /runners in the chat",
  }),
  telegramApprovals: setting({
    rule: bool,
    env: "STRATAVORE_TELEGRAM_APPROVALS",
    default: true,
    help:
      "Approve/Deny buttons under permission requests in the Telegram chat (projects with --approvals remote)",
  }),
  notifyEvents: setting({
    rule: ({ z }) =>
      z.string().transform((v) => v.replace(/\s+/g, "")).superRefine((v, ctx) => {
        const problem = globListProblem(v);
        if (problem) ctx.addIssue({ code: "custom", message: problem });
      }),
    env: "STRATAVORE_NOTIFY_EVENTS",
    default: "runner.*,budget.*,limits.*,project.quota_exceeded,daemon.*,event.dead_lettered",
    help: "event types that notify (comma-separated globs)",
  }),
  notifyRetryDelay: setting({
    ...duration(10),
    env: "STRATAVORE_NOTIFY_RETRY_DELAY",
    default: "1s",
    help: "first retry delay of a failed Telegram send (doubles)",
  }),
  notifyMinGap: setting({
    ...duration(10),
    env: "STRATAVORE_NOTIFY_MIN_GAP",
    default: "1s",
    help: "least time between two messages to the chat (Telegram allows about one a second)",
  }),
  notifyBotCheck: setting({
    ...duration(100),
    env: "STRATAVORE_NOTIFY_BOT_CHECK",
    default: "5s",
    help: "how often each daemon checks whether it is the one answering bot commands (takeover time)",
  }),
  notifyMaxAttempts: setting({
    rule: integer(1, 1000),
    env: "STRATAVORE_NOTIFY_MAX_ATTEMPTS",
    default: 10,
    help: "Telegram send attempts before giving up",
  }),
  allowedHosts: setting({
    /** Anything else is refused (DNS rebinding). */
    rule: ({ z }) =>
      z.union([z.string(), z.array(z.string())]).transform((v, ctx) => {
        const names = (typeof v === "string" ? v.split(",") : v).map((s) => s.trim().toLowerCase()).filter(
          Boolean,
        );
        const label = /^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/;
        if (
          names.length > 64 || names.some((n) => n.length > 253 || !n.split(".").every((l) => label.test(l)))
        ) {
          ctx.addIssue({
            code: "custom",
            message: 'expected comma-separated host names such as "stratavore.lan"',
          });
          return z.NEVER;
        }
        return names;
      }),
    env: "STRATAVORE_ALLOWED_HOSTS",
    default: [],
    help: "host names the API and metrics ports answer for, besides IP addresses and localhost",
  }),
  sessionEnv: setting({
    /** Beyond the built-in allowlist (lib/session_env.ts); secret settings never pass. */
    rule: ({ z }) =>
      z.string().max(2000).transform((v) => v.replace(/\s+/g, "")).refine(
        (v) =>
          /^[A-Za-z0-9_*()]+(,[A-Za-z0-9_*()]+)*$/.test(v) &&
          v.split(",").every((p) => p.split("*").length - 1 <= GLOB_LIMITS.stars),
        { message: 'expected comma-separated variable names or globs such as "GITHUB_TOKEN,NPM_*"' },
      ).optional(),
    env: "STRATAVORE_SESSION_ENV",
    help: "environment variables sessions get beyond the built-in allowlist (names or globs)",
  }),
  limitPolicy: setting({
    rule: ({ z }) => z.enum(["allow", "refuse", "queue"]),
    env: "STRATAVORE_LIMIT_POLICY",
    default: "allow",
    help: "launches while a subscription window is full: allow, refuse or queue (projects may override)",
  }),
  limitThreshold: setting({
    rule: integer(1, 100),
    env: "STRATAVORE_LIMIT_THRESHOLD",
    default: 95,
    help: "percent of a subscription window above which the launch policy applies",
  }),
  limitAlerts: setting({
    rule: ({ z }) =>
      z.union([z.string(), z.array(z.number())]).transform((v, ctx) => {
        const parts = typeof v === "string"
          ? v.split(",").map((p) => p.trim()).filter(Boolean).map(Number)
          : v;
        if (parts.some((n) => !Number.isInteger(n) || n < 1 || n > 100)) {
          ctx.addIssue({ code: "custom", message: 'expected whole percents from 1 to 100 such as "80,95"' });
          return z.NEVER;
        }
        return [...new Set(parts)].sort((a, b) => a - b);
      }),
    env: "STRATAVORE_LIMIT_ALERTS",
    default: "80,95",
    help: "percents that raise limits.warning (once per window), e.g. 80,95",
  }),
  limitResume: setting({
    rule: bool,
    env: "STRATAVORE_LIMIT_RESUME",
    default: true,
    help: "continue headless runs cut off by the usage limit (claude --resume) after the reset",
  }),
  limitResumeMessage: setting({
    rule: ({ z }) => z.string().min(1).max(10_000),
    env: "STRATAVORE_LIMIT_RESUME_MESSAGE",
    default: "The usage limit has reset. Continue the task where you left off.",
    help: "the prompt a continued run gets",
  }),
  limitStagger: setting({
    ...duration(0),
    env: "STRATAVORE_LIMIT_STAGGER",
    default: "30s",
    help: "pause between launches or resumes started at a reset",
  }),
  limitResumePerDay: setting({
    rule: integer(0, 100_000),
    env: "STRATAVORE_LIMIT_RESUME_PER_DAY",
    default: 20,
    help: "most continued runs per day (UTC)",
  }),
};

export type SettingKey = keyof typeof SETTINGS;

/** The settings a flag may set. */
export type FlagSettingKey = { [K in SettingKey]: (typeof SETTINGS)[K] extends { flag: string } ? K : never }[
  SettingKey
];

/** "--listen" of "--listen <addr>". */
export function flagName(s: { flag?: string }): string | undefined {
  return s.flag?.split(/[ ,]/)[0];
}

/** A flag's help line: what it is, its environment variable and its default. */
export function flagHelp(
  s: Pick<Setting, "help" | "env" | "defaultText" | "unset"> & { default?: unknown },
): string {
  const dflt = s.defaultText ??
    (s.default === undefined || typeof s.default === "function" ? undefined : String(s.default));
  const rest = dflt ? `, default ${dflt}` : s.unset ? `; unset: ${s.unset}` : "";
  return `${s.help} (env ${s.env}${rest})`;
}
