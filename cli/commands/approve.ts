/**
 * `stratavore approve <runner>` / `stratavore deny <runner> [--message …]`: answer a session's pending
 * permission request from here (projects with `approvals: remote`). Without one pending, it says what the
 * runner's request became; `permissions <runner>` lists its recent ones.
 */
import type { PermissionRequest } from "../../lib/schemas/runner.ts";
import { parseRunnerId, parseWholeNumber } from "../args.ts";
import { connect } from "../connect.ts";
import { contextFrom, type GlobalOptions } from "../../lib/startup.ts";
import { formatAge, now, printJson } from "../render/format.ts";
import { printTable } from "../render/table.ts";

export interface AnswerOptions extends GlobalOptions {
  message?: string;
  request?: string;
}

export async function answerCommand(
  decision: "allow" | "deny",
  runnerText: string,
  opts: AnswerOptions,
): Promise<void> {
  const ctx = contextFrom(opts);
  const id = parseRunnerId(runnerText);
  const requestId = opts.request ? parseWholeNumber("--request", opts.request, 1) : undefined;
  const r = await (await connect(ctx)).answerPermission(id, {
    decision,
    message: opts.message,
    requestId,
    channel: "cli",
  });
  if (ctx.json) return printJson(r);
  console.log(`runner ${id}: ${decision === "allow" ? "allowed" : "denied"} ${r.summary}`);
}

export async function permissionsCommand(runnerText: string, opts: GlobalOptions): Promise<void> {
  const ctx = contextFrom(opts);
  const id = parseRunnerId(runnerText);
  const { requests } = await (await connect(ctx)).listPermissions(id);
  if (ctx.json) return printJson({ requests });
  if (requests.length === 0) return console.log(`runner ${id} has asked for no permission yet`);
  const at = now();
  printTable(
    ["ID", "ASKED", "TOOL", "STATUS", "BY", "WHAT"],
    requests.map((q) => [
      String(q.id),
      formatAge(q.requestedAt, at),
      q.tool,
      statusText(q),
      q.answeredBy
        ? `${q.answeredBy}${q.channel && q.channel !== q.answeredBy ? ` (${q.channel})` : ""}`
        : "-",
      q.summary,
    ]),
    { color: ctx.color, priority: [9, 4, 6, 8, 3, 5], align: ["r", "l", "l", "l", "l", "l"] },
  );
}

function statusText(q: PermissionRequest): string {
  if (q.status === "pending") {
    return q.remote ? "waiting (answer with approve/deny)" : "waiting (terminal only)";
  }
  return q.status.replaceAll("_", " ");
}
