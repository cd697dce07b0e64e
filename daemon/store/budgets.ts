/** Budgets: rows, their current period's usage, and the API shape. */
import type { Queryable } from "../../lib/db/types.ts";
import { AppError } from "../../lib/errors.ts";
import { type Period, periodEnd, periodStart } from "../../lib/period.ts";
import { type Budget, budgetName, type BudgetPut, type BudgetScope } from "../../lib/schemas/budget.ts";
import { emit } from "./outbox.ts";
import { ACTIVE_SQL } from "./runners.ts";

export interface BudgetRow {
  id: number;
  scope: BudgetScope;
  scope_ref: string;
  token_limit: number | null;
  cost_limit_usd: number | null;
  period: Period;
  timezone: string;
  warn_at: number[];
  policy: "block" | "stop";
  reserve_tokens: number;
  created_at: Date;
  updated_at: Date;
}

export interface PeriodUsage {
  start: number;
  end: number | null;
  tokens: number;
  costUsd: number;
  warned: number[];
  exceededAt: Date | null;
}

export async function periodUsage(q: Queryable, b: BudgetRow, now: number): Promise<PeriodUsage> {
  const start = periodStart(b.period, b.timezone, now);
  const [u] = await q.query<{ tokens: number; cost_usd: number; warned: number[]; exceeded_at: Date | null }>(
    "SELECT tokens, cost_usd, warned, exceeded_at FROM budget_usage WHERE budget_id = $1 AND period_start = $2",
    [b.id, new Date(start)],
  );
  return {
    start,
    end: periodEnd(b.period, b.timezone, now),
    tokens: u?.tokens ?? 0,
    costUsd: u?.cost_usd ?? 0,
    warned: u?.warned ?? [],
    exceededAt: u?.exceeded_at ?? null,
  };
}

/** Percent of the limit used: the larger of tokens and cost. */
export function percentUsed(
  b: Pick<BudgetRow, "token_limit" | "cost_limit_usd">,
  tokens: number,
  cost: number,
): number {
  const t = b.token_limit ? (tokens / b.token_limit) * 100 : 0;
  const c = b.cost_limit_usd ? (cost / b.cost_limit_usd) * 100 : 0;
  return Math.max(t, c);
}

/** Active runners a budget covers (their reservations are held). */
export async function activeInScope(
  q: Queryable,
  b: Pick<BudgetRow, "scope" | "scope_ref">,
): Promise<number> {
  const where = b.scope === "global"
    ? ""
    : b.scope === "project"
    ? "AND project_id = (SELECT id FROM projects WHERE name = $1)"
    : "AND id = $1::bigint";
  const [{ n }] = await q.query<{ n: number }>(
    `SELECT count(*)::int AS n FROM runners WHERE state IN ${ACTIVE_SQL} ${where}`,
    b.scope === "global" ? [] : [b.scope === "runner" ? Number(b.scope_ref) : b.scope_ref],
  );
  return n;
}

export async function toBudget(q: Queryable, b: BudgetRow, now: number): Promise<Budget> {
  const u = await periodUsage(q, b, now);
  const percent = percentUsed(b, u.tokens, u.costUsd);
  const reserved = b.reserve_tokens ? b.reserve_tokens * await activeInScope(q, b) : 0;
  return {
    id: b.id,
    scope: b.scope,
    scopeRef: b.scope_ref,
    name: budgetName(b.scope, b.scope_ref),
    tokenLimit: b.token_limit,
    costLimitUsd: b.cost_limit_usd,
    period: b.period,
    timezone: b.timezone,
    warnAt: b.warn_at,
    policy: b.policy,
    reserveTokens: b.reserve_tokens,
    createdAt: b.created_at.toISOString(),
    updatedAt: b.updated_at.toISOString(),
    usage: {
      periodStart: b.period === "none" ? null : new Date(u.start).toISOString(),
      resetsAt: u.end === null ? null : new Date(u.end).toISOString(),
      tokens: u.tokens,
      costUsd: Math.round(u.costUsd * 1e6) / 1e6,
      reservedTokens: reserved,
      percent: Math.round(percent * 10) / 10,
      state: percent >= 100
        ? "exceeded"
        : u.warned.length > 0 || b.warn_at.some((t) => percent >= t)
        ? "warning"
        : "ok",
      warned: u.warned,
    },
  };
}

export function notFoundBudget(scope: BudgetScope, ref: string): AppError {
  return new AppError(
    "not_found",
    `no budget ${budgetName(scope, ref)}: list them with "stratavore budget show"`,
  );
}

export async function listBudgets(q: Queryable, now: number): Promise<Budget[]> {
  const rows = await q.query<BudgetRow>("SELECT * FROM budgets ORDER BY scope, scope_ref");
  return await Promise.all(rows.map((b) => toBudget(q, b, now)));
}

export async function findBudget(
  q: Queryable,
  scope: BudgetScope,
  ref: string,
): Promise<BudgetRow | undefined> {
  const [row] = await q.query<BudgetRow>("SELECT * FROM budgets WHERE scope = $1 AND scope_ref = $2", [
    scope,
    ref,
  ]);
  return row;
}

export async function putBudget(
  tx: Queryable,
  scope: BudgetScope,
  ref: string,
  body: BudgetPut,
  defaults: { timezone: string; now: number },
): Promise<Budget> {
  if (scope === "project") {
    const [p] = await tx.query("SELECT 1 FROM projects WHERE name = $1", [ref]);
    if (!p) {
      throw new AppError(
        "not_found",
        `no project named "${ref}": create it first with "stratavore new ${ref}"`,
      );
    }
  } else if (scope === "runner") {
    const [r] = await tx.query("SELECT 1 FROM runners WHERE id = $1", [Number(ref)]);
    if (!r) throw new AppError("not_found", `no runner ${ref}`);
  }
  const [row] = await tx.query<BudgetRow>(
    `INSERT INTO budgets (scope, scope_ref, token_limit, cost_limit_usd, period, timezone, warn_at, policy, reserve_tokens)
     VALUES ($1, $2, $3, $4, $5, $6, $7::jsonb, $8, $9)
     ON CONFLICT (scope, scope_ref) DO UPDATE SET
       token_limit = excluded.token_limit, cost_limit_usd = excluded.cost_limit_usd, period = excluded.period,
       timezone = excluded.timezone, warn_at = excluded.warn_at, policy = excluded.policy,
       reserve_tokens = excluded.reserve_tokens, updated_at = now()
     RETURNING *`,
    [
      scope,
      ref,
      body.tokens ?? null,
      body.costUsd ?? null,
      body.period ?? "month",
      body.timezone ?? defaults.timezone,
      [...new Set(body.warnAt ?? [80, 95])].sort((a, b) => a - b),
      body.policy ?? "block",
      body.reserveTokens ?? 0,
    ],
  );
  const budget = await toBudget(tx, row, defaults.now);
  await emit(tx, {
    type: "budget.set",
    entityId: row.id,
    project: scope === "project" ? ref : null,
    orderingKey: `budget:${row.id}`,
    payload: { budget },
  });
  return budget;
}

export async function deleteBudget(tx: Queryable, scope: BudgetScope, ref: string): Promise<void> {
  const [row] = await tx.query<{ id: number }>(
    "DELETE FROM budgets WHERE scope = $1 AND scope_ref = $2 RETURNING id",
    [
      scope,
      ref,
    ],
  );
  if (!row) throw notFoundBudget(scope, ref);
  await emit(tx, {
    type: "budget.removed",
    entityId: row.id,
    project: scope === "project" ? ref : null,
    orderingKey: `budget:${row.id}`,
    payload: { name: budgetName(scope, ref) },
  });
}
