import { z } from "zod";
import {
  costSummary,
  INT32_MAX,
  MAX_BYTES,
  MAX_TOKENS,
  processId,
  projectName,
  smallCount,
  textProblem,
  timestamp,
  tokenCount,
  tokenCounts,
} from "./common.ts";
import { worktreeInfo, worktreeRequest } from "./worktree.ts";

import { RUNNER_STATES } from "../runner_states.ts";
export { ACTIVE_STATES, RUNNER_STATES, type RunnerState } from "../runner_states.ts";
export const runnerState = z.enum(RUNNER_STATES);

/**
 * What a Claude session is doing, from its hooks: busy (a prompt or a tool), waiting for its user (a
 * permission dialog, a question, an idle prompt), idle (the turn ended), error (the turn failed: an API
 * error, a usage limit), compacting, ended (the session closed; a new one may follow after /clear).
 */
export const ACTIVITIES = ["busy", "waiting_for_input", "idle", "error", "compacting", "ended"] as const;
export const activity = z.enum(ACTIVITIES);
export type Activity = z.infer<typeof activity>;

/** observed: a Claude session Stratavore did not launch, seen through its machine-wide hooks. */
export const runnerMode = z.enum(["interactive", "headless", "pty", "observed"]);

/**
 * How a runner's Claude Code telemetry is set up: exported to this daemon (its costs are Claude Code's own),
 * the user's own exporter left alone (costs estimated from transcripts), or off.
 */
export const telemetryMode = z.enum(["stratavore", "user", "off"]);
export type TelemetryModeName = z.infer<typeof telemetryMode>;
export type RunnerMode = z.infer<typeof runnerMode>;

const labels = z.record(
  z.string().regex(/^[A-Za-z0-9_.-]{1,63}$/, "label names are 1-63 of A-Z a-z 0-9 _ . -"),
  z.string().max(256),
)
  .refine((v) => Object.keys(v).length <= 32, "at most 32 labels");

export const launchRequest = z.strictObject({
  project: projectName,
  command: z.string().min(1).max(1024).optional(),
  args: z.array(z.string().max(8192)).max(256).optional(),
  cwd: z.string().min(1).max(4096).optional(),
  labels: labels.optional(),
  mode: runnerMode.optional(),
  prompt: z.string().max(100_000).optional(),
  /** Start the agent on the daemon's machine (detached); otherwise the caller runs the agent itself. */
  spawn: z.boolean().optional(),
  /** Run in a git worktree of its own (default: the project's `worktree` setting); false: in the folder. */
  worktree: worktreeRequest.optional(),
});
export type LaunchRequest = z.infer<typeof launchRequest>;

export const runner = z.object({
  id: z.number(),
  project: z.string(),
  projectId: z.number(),
  state: runnerState,
  activity: activity.nullable(),
  /** Why: "idle_prompt", "permission_prompt"… from Claude Code's notification. */
  activityDetail: z.string().nullable(),
  activityAt: timestamp.nullable(),
  mode: runnerMode,
  command: z.string(),
  args: z.array(z.string()),
  cwd: z.string(),
  labels: z.record(z.string(), z.string()),
  prompt: z.string().nullable(),
  host: z.string().nullable(),
  pid: z.number().nullable(),
  exitCode: z.number().nullable(),
  exitSignal: z.string().nullable(),
  reason: z.string().nullable(),
  stopRequested: z.boolean(),
  sessionId: z.string().nullable(),
  createdAt: timestamp,
  startedAt: timestamp.nullable(),
  endedAt: timestamp.nullable(),
  lastHeartbeatAt: timestamp.nullable(),
  heartbeatCount: z.number(),
  /** Where a detached runner's output is kept (on the daemon's machine). */
  logPath: z.string().nullable(),
  cpuPercent: z.number().nullable(),
  rssBytes: z.number().nullable(),
  tokens: tokenCounts,
  cost: costSummary,
  /** null for commands other than Claude Code. */
  telemetry: telemetryMode.nullable(),
  /** Where the user's own telemetry goes (telemetry "user"). */
  telemetryEndpoint: z.string().nullable(),
  /** Stopped by the subscription usage limit until then (a time in the past: it was, and has reset). */
  limitedUntil: timestamp.nullable().optional(),
  /** Which window stopped it: five_hour or seven_day. */
  limitedWindow: z.string().nullable().optional(),
  /** Claude Code's autoContinueAtUsageLimit for the session (it continues by itself after the reset). */
  autoContinue: z.boolean().nullable().optional(),
  /** The runner this one continues after a usage-limit reset. */
  resumedFrom: z.number().nullable().optional(),
  /** The permission request waiting for an answer, if any (the tool, what it would do). */
  pendingPermission: z.lazy(() => permissionRequest).nullable().optional(),
  /** The runner's git worktree (branch, base, how it stands against the base), if it has one. */
  worktree: worktreeInfo.nullable(),
  /** Claude Code's API calls (from its telemetry); only in GET /runners/:id. */
  apiCalls: z.object({
    requests: z.number(),
    errors: z.number(),
    meanMs: z.number().nullable(),
    costUsd: z.number(),
  }).optional(),
});
export type Runner = z.infer<typeof runner>;

export const runnerList = z.object({ runners: z.array(runner) });

export const launchResponse = z.object({ runner, token: z.string() });
export type LaunchResponse = z.infer<typeof launchResponse>;

/** One model's cumulative usage in one session, as counted by the agent since the runner started. */
export const usageTotal = z.strictObject({
  sessionId: z.string().min(1).max(200),
  model: z.string().max(200),
  input: tokenCount,
  output: tokenCount,
  cacheCreation: tokenCount,
  /** The part of cacheCreation written with the 1-hour TTL (priced higher). */
  cacheCreation1h: tokenCount.optional(),
  cacheRead: tokenCount,
  messages: smallCount.optional(),
});
export type UsageTotal = z.infer<typeof usageTotal>;

/**
 * Claude Code's own cumulative figures for one model of a session, from a headless run's result event
 * (`modelUsage`): its cost and the tokens it counted.
 */
export const reportedTotal = z.strictObject({
  sessionId: z.string().min(1).max(200),
  model: z.string().min(1).max(200),
  costUsd: z.number().finite().nonnegative().max(1e7),
  input: tokenCount,
  output: tokenCount,
  cacheRead: tokenCount,
  cacheCreation: tokenCount,
});
export type ReportedTotal = z.infer<typeof reportedTotal>;

export const heartbeatRequest = z.strictObject({
  pid: processId.optional(),
  /** CPU and memory of the child's process tree; null when the platform cannot tell. */
  cpuPercent: z.number().nonnegative().max(100_000).nullable().optional(),
  rssBytes: z.number().int().nonnegative().max(MAX_BYTES).nullable().optional(),
  sessionId: z.string().min(1).max(200).optional(),
  tokens: tokenCounts.optional(),
  usage: z.array(usageTotal).max(1000).optional(),
  reported: z.array(reportedTotal).max(200).optional(),
});
export type HeartbeatRequest = z.infer<typeof heartbeatRequest>;

const isCount = (v: unknown, max: number) =>
  Number.isSafeInteger(v) && (v as number) >= 0 && v as number <= max;

/**
 * The common heartbeat (no usage or reported totals) checked by hand: true only for a parsed JSON value that
 * heartbeatRequest accepts as it is. The daemon's hot path tries it first and leaves everything else
 * (including every error message) to the schema; tests/daemon/heartbeat_body_test.ts holds the two together.
 */
export function isPlainHeartbeat(v: unknown): v is HeartbeatRequest {
  if (typeof v !== "object" || v === null || Array.isArray(v)) return false;
  for (const [k, x] of Object.entries(v)) {
    if (k === "pid") {
      if (!(Number.isSafeInteger(x) && x > 0 && x <= INT32_MAX)) return false;
    } else if (k === "cpuPercent") {
      if (x !== null && !(typeof x === "number" && x >= 0 && x <= 100_000)) return false;
    } else if (k === "rssBytes") {
      if (x !== null && !isCount(x, MAX_BYTES)) return false;
    } else if (k === "sessionId") {
      if (typeof x !== "string" || x.length < 1 || x.length > 200 || textProblem(x) !== undefined) {
        return false;
      }
    } else if (k === "tokens") {
      if (typeof x !== "object" || x === null || Array.isArray(x) || Object.keys(x).length !== 4) {
        return false;
      }
      const t = x as Record<string, unknown>;
      if (
        !isCount(t.input, MAX_TOKENS) || !isCount(t.output, MAX_TOKENS) ||
        !isCount(t.cacheCreation, MAX_TOKENS) || !isCount(t.cacheRead, MAX_TOKENS) ||
        !Object.hasOwn(t, "input") || !Object.hasOwn(t, "output") || !Object.hasOwn(t, "cacheCreation") ||
        !Object.hasOwn(t, "cacheRead")
      ) return false;
    } else return false;
  }
  return true;
}

export const heartbeatResponse = z.object({
  state: runnerState,
  stopRequested: z.boolean(),
  /** How often the daemon wants heartbeats, in milliseconds. */
  intervalMs: z.number(),
});
export type HeartbeatResponse = z.infer<typeof heartbeatResponse>;

export const startedRequest = z.strictObject({
  pid: processId,
  host: z.string().min(1).max(255),
  sessionId: z.string().min(1).max(200).optional(),
  telemetry: telemetryMode.optional(),
  telemetryEndpoint: z.string().max(2000).optional(),
  /** The command line exactly as the agent started it (with what it adds, such as Claude's --session-id). */
  command: z.string().min(1).max(1024).optional(),
  args: z.array(z.string().max(100_000)).max(1000).optional(),
  /** Claude Code's autoContinueAtUsageLimit for the session (from the user's settings). */
  autoContinue: z.boolean().optional(),
});
export type StartedRequest = z.infer<typeof startedRequest>;

export const exitedRequest = z.strictObject({
  // Signed POSIX codes and unsigned Windows ones (0xC0000005 is 3221225477): the column is bigint (007).
  exitCode: z.number().int().min(-2_147_483_648).max(4_294_967_295).nullable(),
  signal: z.string().max(32).nullable().optional(),
  reason: z.string().max(2000).optional(),
});
export type ExitedRequest = z.infer<typeof exitedRequest>;

export const stopRequest = z.strictObject({ reason: z.string().max(2000).optional() }).optional();

export const PERMISSION_STATUSES = [
  "pending",
  "allowed",
  "denied",
  "answered_in_terminal",
  "expired",
] as const;
export const APPROVAL_CHANNELS = ["api", "cli", "web", "telegram", "terminal"] as const;

/** A tool call waiting for the user's permission (Claude Code's PermissionRequest), and how it was answered. */
export const permissionRequest = z.object({
  id: z.number(),
  runnerId: z.number(),
  project: z.string(),
  sessionId: z.string(),
  tool: z.string(),
  /** One line: the command, the file, the URL. */
  summary: z.string(),
  input: z.unknown(),
  /** Whether it may be answered from here (the project's `approvals` is `remote`) or only in the terminal. */
  remote: z.boolean(),
  status: z.enum(PERMISSION_STATUSES),
  requestedAt: timestamp,
  expiresAt: timestamp,
  answeredAt: timestamp.nullable(),
  answeredBy: z.string().nullable(),
  channel: z.string().nullable(),
  message: z.string().nullable(),
});
export type PermissionRequest = z.infer<typeof permissionRequest>;

/** POST /api/v1/runners/:id/permission: answer the runner's pending permission request. */
export const permissionAnswer = z.strictObject({
  decision: z.enum(["allow", "deny"]),
  /** Told to Claude (deny) and kept in the audit log. */
  message: z.string().max(2000).optional(),
  /** Answer this request only (default: the runner's pending one). */
  requestId: z.number().int().positive().max(Number.MAX_SAFE_INTEGER).optional(),
  /** Where the answer comes from, for the audit log and the event (default api). */
  channel: z.enum(["api", "cli", "web"]).optional(),
});
export type PermissionAnswer = z.infer<typeof permissionAnswer>;
