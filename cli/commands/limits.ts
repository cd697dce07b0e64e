/**
 * `stratavore limits [--json]`: every account's subscription windows (5-hour and weekly) with a bar, the
 * percent used, the time to reset and whether it refuses requests now.
 */
import { connect } from "../connect.ts";
import { contextFrom, type GlobalOptions } from "../../lib/startup.ts";
import { formatSpan, now, printJson } from "../render/format.ts";
import { printTable } from "../render/table.ts";
import { usageBar } from "../render/bar.ts";
import type { LimitAccount, LimitWindow } from "../../lib/schemas/limits.ts";

const WINDOW_TEXT: Record<string, string> = { five_hour: "5-hour", seven_day: "weekly" };

/** "limited until 14:05 UTC" (a time today), or with the date further out. */
export function untilText(iso: string, at: number): string {
  const d = new Date(iso);
  const hm = d.toISOString().slice(11, 16);
  const sameDay = d.toISOString().slice(0, 10) === new Date(at).toISOString().slice(0, 10);
  return sameDay ? `${hm} UTC` : `${d.toISOString().slice(0, 10)} ${hm} UTC`;
}

function state(w: LimitWindow, thresholds: number[]): "ok" | "warning" | "exceeded" {
  if (w.limited) return "exceeded";
  return w.percent >= (thresholds[0] ?? 80) ? "warning" : "ok";
}

export function limitRows(
  accounts: LimitAccount[],
  thresholds: number[],
  color: boolean,
  at: number,
): string[][] {
  const rows: string[][] = [];
  for (const a of accounts) {
    for (const w of a.windows) {
      const reset = w.resetsAt
        ? (Date.parse(w.resetsAt) > at ? `in ${formatSpan(Date.parse(w.resetsAt) - at)}` : "reset")
        : "-";
      rows.push([
        a.label,
        a.kind === "account" ? "account" : "config",
        WINDOW_TEXT[w.window] ?? w.window,
        `${usageBar(w.percent, 20, color, state(w, thresholds))} ${String(w.percent).padStart(3)}%`,
        reset,
        w.limited && w.resetsAt ? `limited until ${untilText(w.resetsAt, at)}` : (w.status ?? "-"),
      ]);
    }
  }
  return rows;
}

export async function limitsCommand(opts: GlobalOptions) {
  const ctx = contextFrom(opts);
  const report = await (await connect(ctx)).limits();
  if (ctx.json) return printJson(report);
  if (report.accounts.length === 0) {
    return console.log(
      "no subscription limits reported yet (Claude Code reports them for Claude.ai logins, once a session runs)",
    );
  }
  const at = now();
  printTable(
    ["ACCOUNT", "KEYED BY", "WINDOW", "USED", "RESETS", "STATUS"],
    limitRows(report.accounts, report.thresholds, ctx.color, at),
    { color: ctx.color, align: ["l", "l", "l", "l", "r", "l"], priority: [8, 2, 9, 9, 7, 6] },
  );
  console.log(
    `launches above ${report.threshold}%: ${report.policy} (projects may override: project set --limit-policy); ` +
      `cut-off headless runs are ${
        report.resume ? "continued after the reset" : "not continued (resuming is off)"
      }`,
  );
  const waiting = report.queue.filter((q) => q.status === "waiting");
  for (const q of waiting) {
    const when = q.notBefore ? `after ${untilText(q.notBefore, at)}` : "when the window allows";
    console.log(`waiting #${q.id}: ${q.kind === "resume" ? "continue" : "launch"} in ${q.project} ${when}`);
  }
}
