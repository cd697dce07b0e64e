/**
 * Costs as every role shows them: built from the stored parts (lib/schemas/common.ts `costSummary`), and
 * written `$0.0123` when Claude Code reported it, `~$0.0123` when (partly) estimated from the price table,
 * with unpriced tokens named rather than shown as $0.
 */
import type { CostSummary } from "./schemas/common.ts";

/** Float noise from summing deltas is cut at a billionth of a dollar (reports are micro-dollar exact). */
const round = (v: number) => Math.round(v * 1e9) / 1e9;

export function costSummaryOf(usd: number, reportedUsd: number, unpricedTokens = 0): CostSummary {
  const total = round(usd);
  const reported = round(reportedUsd);
  const estimated = round(total - reported);
  const source = total === 0 && reported === 0
    ? (unpricedTokens > 0 ? "estimated" : "none")
    : Math.abs(estimated) < 1e-9 && unpricedTokens === 0
    ? "claude-code"
    : reported === 0
    ? "estimated"
    : "mixed";
  return { usd: total, reportedUsd: reported, unpricedTokens, source };
}

/** `$0.0123`, `~$1.23` (estimated), `unpriced`, `$0.50 + unpriced`; `-` for no usage. */
export function formatCost(c: CostSummary, digits?: number): string {
  if (c.source === "none") return "-";
  const d = digits ?? (c.usd !== 0 && Math.abs(c.usd) < 1 ? 4 : 2);
  const priced = c.usd !== 0 || c.unpricedTokens === 0;
  const money = priced ? `${c.source === "claude-code" ? "" : "~"}$${c.usd.toFixed(d)}` : "";
  if (c.unpricedTokens > 0) return money ? `${money} + unpriced` : "unpriced";
  return money;
}

/** A word for where a cost came from, for detail views. */
export function costSourceText(c: CostSummary): string {
  switch (c.source) {
    case "claude-code":
      return "reported by Claude Code";
    case "estimated":
      return c.unpricedTokens > 0 && c.usd === 0
        ? "no price for this model"
        : "estimated from the price table";
    case "mixed":
      return `$${c.reportedUsd.toFixed(4)} reported by Claude Code, the rest estimated`;
    default:
      return "no usage";
  }
}
