/** Claude Code sessions as Stratavore tracks them, and usage reports. */
import { z } from "zod";
import { timestamp, tokenCounts } from "./common.ts";

export const transcriptInfo = z.object({
  store: z.string(),
  bytes: z.number(),
  storedBytes: z.number(),
  sha256: z.string(),
  lines: z.number(),
  storedAt: timestamp,
});

export const session = z.object({
  id: z.string(),
  project: z.string(),
  runnerId: z.number().nullable(),
  runners: z.number(),
  cwd: z.string(),
  model: z.string().nullable(),
  messageCount: z.number(),
  tokens: tokenCounts,
  costUsd: z.number(),
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
  costUsd: z.number(),
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
