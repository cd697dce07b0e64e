/** Small shapes every schema shares. */
import { z } from "zod";

export const PROJECT_NAME_RE = /^[a-z0-9][a-z0-9._-]{0,62}$/;

export const projectName = z.string().regex(
  PROJECT_NAME_RE,
  "must be 1-63 characters of a-z, 0-9, '.', '_' or '-', starting with a letter or digit",
);

/** Timestamps travel as ISO 8601 strings. */
export const timestamp = z.string();

/** A runner id as it appears in a path or on the command line. */
export const runnerIdText = z.string().regex(
  /^[1-9]\d{0,14}$/,
  "expected a runner id (a positive whole number)",
)
  .transform(Number);

export const tokenCounts = z.strictObject({
  input: z.number().int().nonnegative(),
  output: z.number().int().nonnegative(),
  cacheCreation: z.number().int().nonnegative(),
  cacheRead: z.number().int().nonnegative(),
});
export type TokenCounts = z.infer<typeof tokenCounts>;

export const apiErrorBody = z.object({
  error: z.object({
    code: z.string(),
    message: z.string(),
    details: z.unknown().optional(),
  }),
});
export type ApiErrorBody = z.infer<typeof apiErrorBody>;

/**
 * What something cost. `usd` is Claude Code's own figure where it reported one (telemetry, a headless run's
 * result) and the price table's estimate elsewhere; `reportedUsd` is the reported part. Tokens of models
 * with neither a report nor a price are counted in `unpricedTokens`, never as $0.
 */
export const costSummary = z.object({
  usd: z.number(),
  reportedUsd: z.number(),
  unpricedTokens: z.number(),
  /** claude-code: all reported; estimated: none reported; mixed; none: no usage at all. */
  source: z.enum(["claude-code", "estimated", "mixed", "none"]),
});
export type CostSummary = z.infer<typeof costSummary>;
