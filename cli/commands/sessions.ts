/**
 * `stratavore sessions`, `session show <id>`, `session export <id>` and `resume <id>`: Claude Code
 * sessions with their messages, tokens and cost; resuming continues one in its project's folder.
 */
import { runAgent } from "../../agent/main.ts";
import { AppError } from "../../lib/errors.ts";
import type { Session } from "../../lib/schemas/session.ts";
import { parseWholeNumber } from "../args.ts";
import { connect } from "../connect.ts";
import { contextFrom, type GlobalOptions } from "../../lib/startup.ts";
import { formatAge, formatBytes, formatCount, now, printJson, renderFields } from "../render/format.ts";
import { printTable } from "../render/table.ts";
import { apiErrorBody } from "../../lib/schemas/common.ts";
import { costSourceText, formatCost } from "../../lib/cost.ts";
import { tokenTotal } from "../../lib/tokens.ts";

const total = (s: Session) => tokenTotal(s.tokens);

export async function sessionsCommand(opts: GlobalOptions & { project?: string; limit?: string }) {
  const ctx = contextFrom(opts);
  const limit = opts.limit ? parseWholeNumber("--limit", opts.limit, 1) : undefined;
  const sessions = await (await connect(ctx)).listSessions({ project: opts.project, limit });
  if (ctx.json) return printJson({ sessions });
  if (sessions.length === 0) {
    return console.log("no sessions yet: they appear when a launched claude starts one");
  }
  const at = now();
  printTable(
    ["SESSION", "PROJECT", "MESSAGES", "TOKENS", "COST", "LAST ACTIVE", "RESUMABLE"],
    sessions.map((s) => [
      s.id,
      s.project,
      String(s.messageCount),
      formatCount(total(s)),
      formatCost(s.cost, 2),
      s.active ? "running" : formatAge(s.lastActivityAt, at),
      s.resumable ? "yes" : "no",
    ]),
    { color: ctx.color, priority: [9, 8, 3, 6, 5, 4, 2], align: ["l", "l", "r", "r", "r"] },
  );
}

/** Transcript tokens against Claude Code's own count of them. */
function usageCheckText(s: Session): string {
  const c = s.usageCheck;
  const sum = (t: Session["tokens"]) => t.input + t.output + t.cacheCreation + t.cacheRead;
  switch (c.status) {
    case "agree":
      return "transcripts and Claude Code's telemetry agree";
    case "differ":
      return `transcripts count ${sum(c.transcript)} tokens, Claude Code reported ${sum(c.reported!)}` +
        (s.active ? " (the session is running: they may not have caught up yet)" : "");
    case "transcript-only":
      return "from transcripts only (no telemetry for this session)";
    case "reported-only":
      return "from Claude Code's telemetry only (no transcript read)";
    default:
      return "-";
  }
}

export async function sessionShowCommand(id: string, opts: GlobalOptions) {
  const ctx = contextFrom(opts);
  const s = await (await connect(ctx)).getSession(id);
  if (ctx.json) return printJson(s);
  console.log(renderFields([
    ["session", s.id],
    ["project", s.project],
    ["folder", s.cwd],
    ["model", s.model ?? "-"],
    ["messages", String(s.messageCount)],
    [
      "tokens",
      `${
        formatCount(total(s))
      } (input ${s.tokens.input}, output ${s.tokens.output}, cache write ${s.tokens.cacheCreation}, cache read ${s.tokens.cacheRead})`,
    ],
    ["cost", `${formatCost(s.cost, 6)} (${costSourceText(s.cost)})`],
    ["usage check", usageCheckText(s)],
    ["runners", `${s.runners}${s.active ? " (one running)" : ""}`],
    ["first activity", s.firstActivityAt ?? "-"],
    ["last activity", s.lastActivityAt ?? "-"],
    ["resumable", s.resumable ? `yes: stratavore resume ${s.id}` : "no"],
    [
      "transcript",
      s.transcript
        ? `${formatBytes(s.transcript.bytes)}, ${s.transcript.lines} lines (stored ${
          formatBytes(s.transcript.storedBytes)
        })`
        : "not stored yet",
    ],
  ], ctx.color));
}

export async function sessionExportCommand(id: string, opts: GlobalOptions & { output?: string }) {
  const ctx = contextFrom(opts);
  const client = await connect(ctx);
  const res = await client.raw("GET", `/api/v1/sessions/${encodeURIComponent(id)}/transcript`, {
    timeoutMs: 120_000,
  });
  if (!res.ok) {
    const body = apiErrorBody.safeParse(await res.json().catch(() => undefined));
    throw new AppError(
      res.status === 404 ? "not_found" : "failed",
      body.success ? body.data.error.message : `HTTP ${res.status}`,
    );
  }
  if (!opts.output || opts.output === "-") {
    await res.body!.pipeTo(Deno.stdout.writable, { preventClose: true });
    return;
  }
  const file = await Deno.open(opts.output, { create: true, write: true, truncate: true });
  await res.body!.pipeTo(file.writable);
  console.error(`wrote ${opts.output}`);
}

export async function resumeCommand(id: string, args: string[], opts: GlobalOptions) {
  const ctx = contextFrom(opts);
  const client = await connect(ctx);
  const s = await client.getSession(id);
  if (s.active) throw new AppError("failed", `session ${id} is still running (runner ${s.runnerId})`);
  // A session that ran in a worktree resumes there (Claude Code finds a session by its folder): the
  // worktree as it was left, or made again from its kept branch.
  const last = s.runnerId ? await client.getRunner(s.runnerId).catch(() => undefined) : undefined;
  const reopen = last?.worktree?.baseSha && last.worktree.state !== "reopened" ? last.id : undefined;
  if (reopen === undefined) {
    try {
      if (!Deno.statSync(s.cwd).isDirectory) throw new Error();
    } catch {
      throw new AppError(
        "failed",
        `session ${id} ran in ${s.cwd}, which does not exist on this machine: resume it where that folder is`,
      );
    }
  }
  const p = await client.getProject(s.project);
  return await runAgent(
    { ...opts, project: s.project, cwd: s.cwd, ...(reopen ? { reopen } : { worktree: false }) },
    { project: p, extraArgs: ["--resume", id, ...args] },
  );
}
