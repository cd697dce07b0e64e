/** `stratavore usage [--project P] [--since 7d|2026-11-01] [--by day|project|model|session]`: tokens and cost. */
import { AppError } from "../../lib/errors.ts";
import { parseDuration } from "../../lib/duration.ts";
import { USAGE_GROUPS } from "../../lib/schemas/session.ts";
import { parseChoice } from "../args.ts";
import { connect } from "../connect.ts";
import { contextFrom, type GlobalOptions } from "../../lib/startup.ts";
import { formatCount, now, printJson } from "../render/format.ts";
import { formatCost } from "../../lib/cost.ts";
import { printTable } from "../render/table.ts";

/** "7d", "24h" (back from now) or a date "2026-11-01" → a UTC date. */
export function parseSince(what: string, text: string | undefined, at: number): string | undefined {
  if (text === undefined) return undefined;
  if (/^\d{4}-\d{2}-\d{2}$/.test(text)) return text;
  const ms = parseDuration(text);
  if (ms === undefined) {
    throw new AppError("usage", `${what} ${text}: expected a date such as 2026-11-01 or a span such as 7d`);
  }
  return new Date(at - ms).toISOString().slice(0, 10);
}

export async function usageCommand(
  opts: GlobalOptions & { project?: string; since?: string; until?: string; by?: string },
) {
  const ctx = contextFrom(opts);
  const at = now();
  const by = opts.by ? parseChoice("--by", opts.by, USAGE_GROUPS) : "day";
  const report = await (await connect(ctx)).usage({
    project: opts.project,
    since: parseSince("--since", opts.since, at),
    until: parseSince("--until", opts.until, at),
    by,
  });
  if (ctx.json) return printJson(report);
  if (report.rows.length === 0) return console.log("no token usage in that range");
  const line = (r: typeof report.total) => [
    r.key,
    formatCount(r.input),
    formatCount(r.output),
    formatCount(r.cacheCreation),
    formatCount(r.cacheRead),
    formatCount(r.total),
    formatCost(r.cost, 2),
  ];
  printTable(
    [by.toUpperCase(), "INPUT", "OUTPUT", "CACHE WRITE", "CACHE READ", "TOTAL", "COST"],
    [...report.rows.map(line), line(report.total)],
    { color: ctx.color, align: ["l", "r", "r", "r", "r", "r", "r"], priority: [9, 5, 5, 3, 3, 8, 7] },
  );
  const t = report.total.cost;
  if (t.source !== "claude-code" && t.source !== "none") {
    console.log(
      "(~: partly estimated from the price table, for usage Claude Code did not report a cost for; " +
        "see `stratavore config` for price overrides)",
    );
  }
}
