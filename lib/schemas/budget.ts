/** Token budgets: scopes, limits, periods, thresholds and policies; usage as the API reports it. */
import { z } from "zod";
import { PERIODS } from "../period.ts";
import { timestamp } from "./common.ts";

export const BUDGET_SCOPES = ["global", "project", "runner"] as const;
export const budgetScope = z.enum(BUDGET_SCOPES);
export type BudgetScope = z.infer<typeof budgetScope>;

export const timeZone = z.string().refine((tz) => {
  try {
    new Intl.DateTimeFormat("en", { timeZone: tz });
    return true;
  } catch {
    return false;
  }
}, { message: 'expected an IANA time zone such as "UTC" or "Europe/Berlin"' });

export const budgetPut = z.strictObject({
  tokens: z.number().int().positive().max(1e15).optional(),
  costUsd: z.number().positive().max(1e9).optional(),
  period: z.enum(PERIODS).optional(),
  timezone: timeZone.optional(),
  /** Percentages at which a warning is sent, once each per period. */
  warnAt: z.array(z.number().int().min(1).max(99)).max(10).optional(),
  /** block: refuse new launches when exhausted; stop: also ask running runners to stop. */
  policy: z.enum(["block", "stop"]).optional(),
  /** Tokens held for each active runner, so concurrent launches cannot overspend the budget. */
  reserveTokens: z.number().int().nonnegative().max(1e15).optional(),
}).refine((b) => b.tokens !== undefined || b.costUsd !== undefined, {
  message: "give a token limit (tokens) or a cost limit (costUsd), or both",
});
export type BudgetPut = z.infer<typeof budgetPut>;

export const budgetUsage = z.object({
  periodStart: timestamp.nullable(),
  resetsAt: timestamp.nullable(),
  tokens: z.number(),
  costUsd: z.number(),
  /** Tokens held by active runners (reserveTokens × active runners in scope). */
  reservedTokens: z.number(),
  /** The larger of token and cost use, in percent of the limit. */
  percent: z.number(),
  state: z.enum(["ok", "warning", "exceeded"]),
  warned: z.array(z.number()),
});
export type BudgetUsage = z.infer<typeof budgetUsage>;

export const budget = z.object({
  id: z.number(),
  scope: budgetScope,
  /** Project name or runner id; "" for the global budget. */
  scopeRef: z.string(),
  /** "global", "project/api", "runner/42". */
  name: z.string(),
  tokenLimit: z.number().nullable(),
  costLimitUsd: z.number().nullable(),
  period: z.enum(PERIODS),
  timezone: z.string(),
  warnAt: z.array(z.number()),
  policy: z.enum(["block", "stop"]),
  reserveTokens: z.number(),
  createdAt: timestamp,
  updatedAt: timestamp,
  usage: budgetUsage,
});
export type Budget = z.infer<typeof budget>;

export const budgetList = z.object({ budgets: z.array(budget) });

export function budgetName(scope: BudgetScope, ref: string): string {
  return scope === "global" ? "global" : `${scope}/${ref}`;
}
