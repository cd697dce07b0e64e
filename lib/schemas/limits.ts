/**
 * Subscription limits: the 5-hour and weekly windows Claude Code reports for a Claude.ai login, as reported
 * to the daemon (from a headless run's stream, a session's statusline, a limit hook) and as the API answers
 * them. One account's windows are shared by every session on that login (see docs/limits.md).
 */
import { z } from "zod";

export const LIMIT_WINDOWS = ["five_hour", "seven_day"] as const;
export const limitWindowName = z.enum(LIMIT_WINDOWS);
export type LimitWindowName = z.infer<typeof limitWindowName>;

/** Claude Code's words for a window's state (and the representative one): `rejected` means limited. */
export const limitStatus = z.string().regex(
  /^[a-z_]{1,40}$/,
  "expected a status such as allowed or rejected",
);

/** How windows are keyed: by the Claude account Claude Code reports, else by its config folder. */
export const accountKind = z.enum(["account", "config_dir"]);
export type AccountKind = z.infer<typeof accountKind>;

export const accountRef = z.strictObject({
  /** `account:<uuid>` or `config:<absolute folder>`. */
  key: z.string().min(1).max(4200).regex(/^(account|config):/, "expected account:<id> or config:<folder>"),
  kind: accountKind,
  /** What people recognise: the account's e-mail, else the folder. */
  label: z.string().max(4096),
});
export type AccountRef = z.infer<typeof accountRef>;

/** Epoch seconds, as Claude Code gives them. */
const epochSeconds = z.number().int().min(0).max(32_503_680_000);

export const windowReport = z.strictObject({
  /** Fraction used, 0 … 1 (Claude Code may report a little over 1). */
  utilization: z.number().min(0).max(10),
  resetsAt: epochSeconds.nullable(),
  status: limitStatus.optional(),
});
export type WindowReport = z.infer<typeof windowReport>;

export const LIMIT_SOURCES = ["stream", "statusline", "hook"] as const;

/** What a reporter sends: `POST /api/v1/runners/:id/limits` (runner token), `/api/v1/observed/limits`. */
export const limitsReport = z.strictObject({
  source: z.enum(LIMIT_SOURCES),
  account: accountRef,
  sessionId: z.string().min(1).max(200).optional(),
  /** The overall state (`allowed`, `allowed_warning`, `rejected`) and the window it speaks for. */
  status: limitStatus.optional(),
  representative: limitWindowName.optional(),
  /** The representative window's reset, when no per-window figures came with it. */
  resetsAt: epochSeconds.optional(),
  usingOverage: z.boolean().optional(),
  windows: z.strictObject({
    five_hour: windowReport.optional(),
    seven_day: windowReport.optional(),
  }),
  /** Claude Code's `autoContinueAtUsageLimit` for this session: it continues by itself after a reset. */
  autoContinue: z.boolean().optional(),
});
export type LimitsReport = z.infer<typeof limitsReport>;

const timestamp = z.string();

export const limitWindow = z.object({
  window: limitWindowName,
  utilization: z.number(),
  /** Percent, rounded, for display. */
  percent: z.number(),
  resetsAt: timestamp.nullable(),
  /** Seconds until the reset (0 once passed). */
  secondsToReset: z.number().nullable(),
  status: z.string().nullable(),
  /** True while the window refuses requests (status rejected, reset still ahead). */
  limited: z.boolean(),
  source: z.string(),
  updatedAt: timestamp,
});
export type LimitWindow = z.infer<typeof limitWindow>;

export const limitAccount = z.object({
  key: z.string(),
  kind: accountKind,
  label: z.string(),
  windows: z.array(limitWindow),
  /** The latest time any of its windows refuses requests until, if limited now. */
  limitedUntil: timestamp.nullable(),
});
export type LimitAccount = z.infer<typeof limitAccount>;

export const queuedLaunch = z.object({
  id: z.number(),
  project: z.string(),
  /** A launch held for the reset (policy queue), or a headless run to continue after it. */
  kind: z.enum(["launch", "resume"]),
  account: z.string(),
  notBefore: timestamp.nullable(),
  reason: z.string(),
});
export type QueuedLaunch = z.infer<typeof queuedLaunch>;

export const queuedLaunchResponse = z.object({ queued: queuedLaunch });

export const limitsResponse = z.object({
  accounts: z.array(limitAccount),
  /** Thresholds (percent) that raise limits.warning, once per window. */
  thresholds: z.array(z.number()),
  /** The daemon's launch policy and its threshold (projects may override the policy). */
  policy: z.enum(["allow", "refuse", "queue"]),
  threshold: z.number(),
  /** Whether headless runs cut off by the limit are continued after the reset. */
  resume: z.boolean(),
  /** Waiting entries, and those of the last day with what became of them. */
  queue: z.array(queuedLaunch.extend({
    status: z.enum(["waiting", "started", "cancelled", "failed", "skipped"]),
    runnerId: z.number().nullable(),
  })),
});
export type LimitsResponse = z.infer<typeof limitsResponse>;

export const limitSample = z.object({
  at: timestamp,
  utilization: z.number(),
  resetsAt: timestamp.nullable(),
  status: z.string().nullable(),
});

export const limitHistory = z.object({
  account: z.string(),
  window: limitWindowName,
  samples: z.array(limitSample),
});
export type LimitHistory = z.infer<typeof limitHistory>;
