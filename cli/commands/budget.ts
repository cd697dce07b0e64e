/** `stratavore budget set|show|rm`: token (and cost) budgets per scope, with usage bars and time to reset. */
import { AppError } from "../../lib/errors.ts";
import { PERIODS } from "../../lib/period.ts";
import { BUDGET_SCOPES, type BudgetPut, type BudgetScope } from "../../lib/schemas/budget.ts";
import { parseChoice, parseWholeNumber } from "../args.ts";
import { connect } from "../connect.ts";
import { contextFrom, type GlobalOptions } from "../../lib/startup.ts";
import { usageBar } from "../render/bar.ts";
import { formatCount, formatSpan, now, printJson } from "../render/format.ts";
import { printTable } from "../render/table.ts";

function scopeRef(
  scopeText: string,
  name: string | undefined,
): { scope: BudgetScope; ref: string | undefined } {
  const scope = parseChoice("scope", scopeText, BUDGET_SCOPES);
  if (scope === "global" && name) throw new AppError("usage", "the global budget takes no name");
  if (scope !== "global" && !name) {
    throw new AppError(
      "usage",
      `a ${scope} budget needs the ${scope === "project" ? "project's name" : "runner's id"}`,
    );
  }
  if (scope === "runner") parseWholeNumber("runner id", name!, 1);
  return { scope, ref: name };
}

export interface BudgetSetOptions extends GlobalOptions {
  tokens?: string;
  cost?: string;
  period?: string;
  warn?: string;
  policy?: string;
  reserve?: string;
  timezone?: string;
}

export async function budgetSetCommand(scopeText: string, name: string | undefined, opts: BudgetSetOptions) {
  const ctx = contextFrom(opts);
  const { scope, ref } = scopeRef(scopeText, name);
  if (opts.tokens === undefined && opts.cost === undefined) {
    throw new AppError("usage", "give a limit: --tokens N and/or --cost USD");
  }
  const body: BudgetPut = {};
  if (opts.tokens !== undefined) body.tokens = parseWholeNumber("--tokens", opts.tokens.replace(/_/g, ""), 1);
  if (opts.cost !== undefined) {
    const c = Number(opts.cost.replace(/^\$/, ""));
    if (!(c > 0)) throw new AppError("usage", `--cost must be a positive amount in USD, not "${opts.cost}"`);
    body.costUsd = c;
  }
  if (opts.period) body.period = parseChoice("--period", opts.period, PERIODS);
  if (opts.policy) body.policy = parseChoice("--policy", opts.policy, ["block", "stop"] as const);
  if (opts.reserve !== undefined) body.reserveTokens = parseWholeNumber("--reserve", opts.reserve, 0);
  if (opts.timezone) body.timezone = opts.timezone;
  if (opts.warn !== undefined) {
    body.warnAt = opts.warn === "" || opts.warn === "none"
      ? []
      : opts.warn.split(",").map((w) => parseWholeNumber("--warn", w.trim().replace(/%$/, ""), 1));
  }
  const b = await (await connect(ctx)).setBudget(scope, ref, body);
  if (ctx.json) return printJson(b);
  console.log(
    `budget ${b.name}: ${describeLimit(b)} per ${
      b.period === "none" ? "all time" : b.period
    }, policy ${b.policy}`,
  );
}

function describeLimit(b: { tokenLimit: number | null; costLimitUsd: number | null }): string {
  return [
    b.tokenLimit ? `${formatCount(b.tokenLimit)} tokens` : "",
    b.costLimitUsd ? `$${b.costLimitUsd}` : "",
  ]
    .filter(Boolean).join(" or ");
}

export async function budgetShowCommand(
  scopeText: string | undefined,
  name: string | undefined,
  opts: GlobalOptions,
) {
  const ctx = contextFrom(opts);
  const client = await connect(ctx);
  const budgets = scopeText
    ? [await client.getBudget(scopeRef(scopeText, name).scope, name)]
    : await client.listBudgets();
  if (ctx.json) return printJson(scopeText ? budgets[0] : { budgets });
  if (budgets.length === 0) {
    console.log(
      'no budgets: set one with "stratavore budget set project <name> --tokens 5000000 --period month"',
    );
    return;
  }
  const at = now();
  printTable(
    ["BUDGET", "USED", "LIMIT", "USAGE", "%", "PERIOD", "RESETS IN", "POLICY"],
    budgets.map((b) => [
      b.name,
      b.tokenLimit ? formatCount(b.usage.tokens) : `$${b.usage.costUsd.toFixed(2)}`,
      describeLimit(b),
      usageBar(b.usage.percent, 20, ctx.color, b.usage.state),
      `${b.usage.percent}%`,
      b.period,
      b.usage.resetsAt ? formatSpan(Date.parse(b.usage.resetsAt) - at) : "never",
      b.policy + (b.reserveTokens ? `, reserves ${formatCount(b.reserveTokens)}/runner` : ""),
    ]),
    { color: ctx.color, priority: [9, 8, 6, 5, 9, 2, 7, 1], align: ["l", "r", "l", "l", "r"] },
  );
}

export async function budgetRmCommand(scopeText: string, name: string | undefined, opts: GlobalOptions) {
  const ctx = contextFrom(opts);
  const { scope, ref } = scopeRef(scopeText, name);
  const r = await (await connect(ctx)).deleteBudget(scope, ref);
  if (ctx.json) return printJson(r);
  console.log(`budget ${r.deleted} removed`);
}
