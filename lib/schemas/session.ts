/** Claude Code sessions as Stratavore tracks them, and usage reports. */
import { z } from "zod";
import { costSummary, timestamp, tokenCounts } from "./common.ts";

export const transcriptInfo = z.object({
  store: z.string(),
  bytes: z.number(),
  storedBytes: z.number(),
  sha256: z.string(),
  lines: z.number(),
  storedAt: timestamp,
});

/**
 * The cross-check of a session's two accounts: tokens counted from its transcripts and tokens Claude Code
 * reported itself. "differ" is worth a look once no runner of the session is active (while one is, the two
 * arrive at different moments).
 */
export const usageCheck = z.object({
  status: z.enum(["agree", "differ", "transcript-only", "reported-only", "none"]),
  transcript: tokenCounts,
  reported: tokenCounts.nullable(),
});
export type UsageCheck = z.infer<typeof usageCheck>;

export const session = z.object({
  id: z.string(),
  project: z.string(),
  runnerId: z.number().nullable(),
  runners: z.number(),
  cwd: z.string(),
  model: z.string().nullable(),
  messageCount: z.number(),
  tokens: tokenCounts,
  /** The same as cost.usd. */
  costUsd: z.number(),
  cost: costSummary,
  usageCheck: usageCheck,
  resumable: z.boolean(),
  active: z.boolean(),
  firstActivityAt: timestamp.nullable(),
  lastActivityAt: timestamp.nullable(),
  transcript: transcriptInfo.nullable(),
});
export type Session = z.infer<typeof session>;

export const sessionList = z.object({ sessions: z.array(session) });

export const USAGE_GROUPS = ["day", "project", "model", "session"] as const;

export const usageRow = z.object({
  key: z.string(),
  input: z.number(),
  output: z.number(),
  cacheCreation: z.number(),
  cacheRead: z.number(),
  total: z.number(),
  /** The same as cost.usd. */
  costUsd: z.number(),
  cost: costSummary,
});
export type UsageRow = z.infer<typeof usageRow>;

export const usageReport = z.object({
  by: z.enum(USAGE_GROUPS),
  since: z.string().nullable(),
  until: z.string().nullable(),
  project: z.string().nullable(),
  rows: z.array(usageRow),
  total: usageRow,
});
export type UsageReport = z.infer<typeof usageReport>;
