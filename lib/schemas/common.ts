/** Small shapes every schema shares. */
import { z } from "zod";
import type { TokenCounts } from "../tokens.ts";
import { ID_RE } from "../ids.ts";

export const PROJECT_NAME_RE = /^[a-z0-9][a-z0-9._-]{0,62}$/;

export const projectName = z.string().regex(
  PROJECT_NAME_RE,
  "must be 1-63 characters of a-z, 0-9, '.', '_' or '-', starting with a letter or digit",
);

/**
 * Why a string cannot be stored as text, or undefined: PostgreSQL refuses NUL in text, and a lone UTF-16
 * surrogate has no UTF-8 form. Every JSON body, path and query value is checked with this one rule
 * (daemon/http/body.ts, daemon/http/input.ts), so no such string reaches the database.
 */
export function textProblem(s: string): string | undefined {
  if (s.includes("\0")) return "contains a NUL character";
  if (!s.isWellFormed()) return "contains a lone UTF-16 surrogate (not valid Unicode)";
  return undefined;
}

/** Whether YYYY-MM-DD names a day that exists (2026-02-31 does not, whatever Date.parse says). */
export function isCalendarDate(text: string): boolean {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(text);
  if (!m) return false;
  const [y, mo, d] = [Number(m[1]), Number(m[2]), Number(m[3])];
  const at = new Date(Date.UTC(y, mo - 1, d));
  return y >= 1 && at.getUTCFullYear() === y && at.getUTCMonth() === mo - 1 && at.getUTCDate() === d;
}

/** A day as YYYY-MM-DD that exists in the calendar. */
export const calendarDay = z.string().regex(/^\d{4}-\d{2}-\d{2}$/, "expected a date such as 2026-11-01")
  .refine(
    isCalendarDate,
    "expected a real date (that day does not exist)",
  );

/** Timestamps travel as ISO 8601 strings. */
export const timestamp = z.string();

/** A runner id as it appears in a path or on the command line. */
export const runnerIdText = z.string().regex(
  ID_RE,
  "expected a runner id (a positive whole number)",
)
  .transform(Number);

/**
 * Bounds that match the columns and stay plausible. A counter a client reports is at most a trillion tokens
 * (no session comes near; sums of many stay far below 2^53, so they survive JSON); a pid fits PostgreSQL's
 * `integer`. Every bound here is one a column can hold: a value past it is a 400, never a failed write.
 */
export const INT32_MAX = 2_147_483_647;
export const MAX_TOKENS = 1e12;
/** Bytes of memory a process reports: 1 PiB. */
export const MAX_BYTES = 2 ** 50;

export const tokenCount = z.number().int().nonnegative().max(MAX_TOKENS);
export const processId = z.number().int().positive().max(INT32_MAX);
/** A count that lands in an `integer` column (messages, samples). */
export const smallCount = z.number().int().nonnegative().max(INT32_MAX);

/** lib/tokens.ts's TokenCounts, as the API checks it. */
export const tokenCounts = z.strictObject({
  input: tokenCount,
  output: tokenCount,
  cacheCreation: tokenCount,
  cacheRead: tokenCount,
}) satisfies z.ZodType<TokenCounts>;
export type { TokenCounts };

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
