/**
 * Budgets at work: admission at launch (in the launch transaction, under the project's advisory lock, plus
 * a global one when a global budget exists) and accounting of new usage with threshold events, exactly once
 * per threshold per period, and the stop policy.
 */
import type { Queryable } from "../../lib/db/types.ts";
import { AppError } from "../../lib/errors.ts";
import { periodEnd, periodStart } from "../../lib/period.ts";
import { budgetName } from "../../lib/schemas/budget.ts";
import { activeInScope, type BudgetRow, percentUsed, periodUsage, toBudget } from "./budgets.ts";
import { emit } from "./outbox.ts";
import { transition } from "./runners.ts";
import type { UsageDelta } from "./usage.ts";
import { tokenTotal } from "../../lib/tokens.ts";

const fmt = (n: number) => n.toLocaleString("en-US");

export function describeReset(resetAt: number | null, tz: string): string {
  if (resetAt === null) return "it never resets (period none)";
  const text = new Intl.DateTimeFormat("en-CA", {
    timeZone: tz,
    year: "numeric",
    month: "2-digit",
    day: "2-digit",
    hour: "2-digit",
    minute: "2-digit",
    hourCycle: "h23",
  }).format(new Date(resetAt)).replace(",", "");
  return `resets ${text} ${tz}`;
}

function usedText(b: BudgetRow, tokens: number, cost: number): string {
  const parts: string[] = [];
  if (b.token_limit) parts.push(`${fmt(tokens)} of ${fmt(b.token_limit)} tokens`);
  if (b.cost_limit_usd) parts.push(`$${cost.toFixed(2)} of $${b.cost_limit_usd.toFixed(2)}`);
  return parts.join(", ") + (b.period === "none" ? "" : ` this ${b.period}`);
}

const GLOBAL_BUDGET_LOCK = "stratavore:budget:global";

/** Refuses a launch (429 budget_exceeded) when a global or project budget has no room for another runner. */
export async function admitLaunch(
  tx: Queryable,
  project: { id: number; name: string },
  now: number,
): Promise<void> {
  const budgets = await tx.query<BudgetRow>(
    "SELECT * FROM budgets WHERE scope = 'global' OR (scope = 'project' AND scope_ref = $1) ORDER BY scope",
    [project.name],
  );
  if (budgets.length === 0) return;
  // The project lock is already held; a global budget spans projects, so its launches serialise too.
  if (budgets.some((b) => b.scope === "global")) {
    await tx.query("SELECT pg_advisory_xact_lock(hashtext($1)::bigint)", [GLOBAL_BUDGET_LOCK]);
  }
  for (const b of budgets) {
    const u = await periodUsage(tx, b, now);
    const name = budgetName(b.scope, b.scope_ref);
    const reset = describeReset(u.end, b.timezone);
    const details = {
      budget: name,
      usedTokens: u.tokens,
      usedCostUsd: u.costUsd,
      resetsAt: u.end && new Date(u.end).toISOString(),
    };
    if (percentUsed(b, u.tokens, u.costUsd) >= 100) {
      // Name the limit that ran out: raising the token limit does not help a spent cost limit.
      const costSpent = b.cost_limit_usd !== null && u.costUsd >= b.cost_limit_usd;
      const tokensSpent = b.token_limit !== null && u.tokens >= b.token_limit;
      const flags = [
        ...(tokensSpent || !costSpent ? ["--tokens N"] : []),
        ...(costSpent ? ["--cost USD"] : []),
      ];
      throw new AppError(
        "budget_exceeded",
        `budget ${name} is exhausted: ${
          usedText(b, u.tokens, u.costUsd)
        }; ${reset}. Raise it with "stratavore budget set ${
          b.scope === "global" ? "global" : `${b.scope} ${b.scope_ref}`
        } ${flags.join(" ")}"`,
        { details },
      );
    }
    if (b.reserve_tokens > 0 && b.token_limit) {
      const active = await activeInScope(tx, b);
      const held = active * b.reserve_tokens;
      if (u.tokens + held + b.reserve_tokens > b.token_limit) {
        throw new AppError(
          "budget_exceeded",
          `budget ${name} has no room for another runner: ${fmt(u.tokens)} used + ${active} running × ${
            fmt(b.reserve_tokens)
          } reserved of ${fmt(b.token_limit)} tokens; ${reset}`,
          { details: { ...details, activeRunners: active, reserveTokens: b.reserve_tokens } },
        );
      }
    }
  }
}

/**
 * Books new usage against every budget it falls under (global, its project, its runner), in the
 * transaction that recorded the usage. Each threshold fires once per budget per period (a new period
 * starts a new budget_usage row, which re-arms them).
 */
export async function recordBudgetUsage(tx: Queryable, deltas: UsageDelta[], now: number): Promise<void> {
  const perBudget = new Map<number, { row: BudgetRow; tokens: number; cost: number }>();
  const names = new Map<number, string>();
  for (const d of deltas) {
    if (!names.has(d.projectId)) {
      const [p] = await tx.query<{ name: string }>("SELECT name FROM projects WHERE id = $1", [d.projectId]);
      names.set(d.projectId, p?.name ?? "");
    }
    const budgets = await tx.query<BudgetRow>(
      `SELECT * FROM budgets WHERE scope = 'global' OR (scope = 'project' AND scope_ref = $1)
         OR (scope = 'runner' AND scope_ref = $2)`,
      [names.get(d.projectId), String(d.runnerId)],
    );
    const tokens = tokenTotal(d);
    for (const b of budgets) {
      const acc = perBudget.get(b.id) ?? { row: b, tokens: 0, cost: 0 };
      acc.tokens += tokens;
      acc.cost += d.costUsd;
      perBudget.set(b.id, acc);
    }
  }
  for (const { row: b, tokens, cost } of perBudget.values()) {
    const start = periodStart(b.period, b.timezone, now);
    const end = periodEnd(b.period, b.timezone, now);
    const [after] = await tx.query<
      { tokens: number; cost_usd: number; warned: number[]; exceeded_at: Date | null }
    >(
      `INSERT INTO budget_usage AS bu (budget_id, period_start, tokens, cost_usd) VALUES ($1, $2, $3, $4)
       ON CONFLICT (budget_id, period_start) DO UPDATE SET
         tokens = bu.tokens + excluded.tokens, cost_usd = bu.cost_usd + excluded.cost_usd
       RETURNING tokens, cost_usd, warned, exceeded_at`,
      [b.id, new Date(start), tokens, cost],
    );
    await checkThresholds(tx, b, after, start, end, now);
  }
}

async function checkThresholds(
  tx: Queryable,
  b: BudgetRow,
  u: { tokens: number; cost_usd: number; warned: number[]; exceeded_at: Date | null },
  start: number,
  end: number | null,
  now: number,
): Promise<void> {
  const percent = percentUsed(b, u.tokens, u.cost_usd);
  const name = budgetName(b.scope, b.scope_ref);
  const due = b.warn_at.filter((t) => percent >= t && !u.warned.includes(t));
  const exceeded = percent >= 100 && u.exceeded_at === null;
  if (due.length === 0 && !exceeded) return;
  await tx.query(
    `UPDATE budget_usage SET warned = $3::jsonb, exceeded_at = CASE WHEN $4 THEN now() ELSE exceeded_at END
     WHERE budget_id = $1 AND period_start = $2`,
    [b.id, new Date(start), [...u.warned, ...due].sort((x, y) => x - y), exceeded],
  );
  const budget = await toBudget(tx, b, now);
  const base = {
    budget,
    usedTokens: u.tokens,
    usedCostUsd: u.cost_usd,
    percent: Math.round(percent * 10) / 10,
    periodStart: b.period === "none" ? null : new Date(start).toISOString(),
    resetsAt: end === null ? null : new Date(end).toISOString(),
  };
  const project = b.scope === "project" ? b.scope_ref : null;
  const reset = describeReset(end, b.timezone);
  for (const t of due) {
    await emit(tx, {
      type: "budget.warning",
      entityId: b.id,
      project,
      orderingKey: `budget:${b.id}`,
      payload: {
        ...base,
        threshold: t,
        message: `budget ${name} reached ${t}%: ${usedText(b, u.tokens, u.cost_usd)}; ${reset}`,
      },
    });
  }
  if (!exceeded) return;
  const stopped = b.policy === "stop" ? await stopRunnersInScope(tx, b, `budget ${name} exhausted`) : [];
  await emit(tx, {
    type: "budget.exceeded",
    entityId: b.id,
    project,
    orderingKey: `budget:${b.id}`,
    payload: {
      ...base,
      stoppedRunners: stopped,
      message: `budget ${name} is exhausted: ${usedText(b, u.tokens, u.cost_usd)}; ${reset}` +
        (b.policy === "stop" ? `; stopping ${stopped.length} runner(s)` : "; new launches are refused"),
    },
  });
}

async function stopRunnersInScope(tx: Queryable, b: BudgetRow, reason: string): Promise<number[]> {
  const where = b.scope === "global"
    ? ""
    : b.scope === "project"
    ? "AND project_id = (SELECT id FROM projects WHERE name = $1)"
    : "AND id = $1::bigint";
  const rows = await tx.query<{ id: number }>(
    `SELECT id FROM runners WHERE state IN ('starting', 'running') ${where} ORDER BY id`,
    b.scope === "global" ? [] : [b.scope === "runner" ? Number(b.scope_ref) : b.scope_ref],
  );
  for (const r of rows) await transition(tx, r.id, "stopping", { reason });
  return rows.map((r) => r.id);
}

/**
 * The first budget over this runner (global, its project, the runner) that is exhausted with policy `block`:
 * a new prompt of its session is refused (Claude Code's UserPromptSubmit hook shows the reason).
 */
export async function blockingBudget(
  q: Queryable,
  runner: { id: number; project: string },
  now: number,
): Promise<string | undefined> {
  const budgets = await q.query<BudgetRow>(
    `SELECT * FROM budgets WHERE policy = 'block' AND (scope = 'global' OR (scope = 'project' AND scope_ref = $1)
       OR (scope = 'runner' AND scope_ref = $2)) ORDER BY scope`,
    [runner.project, String(runner.id)],
  );
  for (const b of budgets) {
    const u = await periodUsage(q, b, now);
    if (percentUsed(b, u.tokens, u.costUsd) >= 100) {
      return `Stratavore: budget ${budgetName(b.scope, b.scope_ref)} is exhausted (${
        usedText(b, u.tokens, u.costUsd)
      }; ${describeReset(u.end, b.timezone)}). Raise it with "stratavore budget set" to go on.`;
    }
  }
  return undefined;
}
