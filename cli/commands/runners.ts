/** `stratavore runners` (the table, like `pm2 ls`) and `stratavore runner <id>` (every detail of one). */
import { type Runner, RUNNER_STATES } from "../../lib/schemas/runner.ts";
import { parseChoice, parseRunnerId } from "../args.ts";
import { connect } from "../connect.ts";
import { contextFrom, type GlobalOptions } from "../../lib/startup.ts";
import {
  formatAge,
  formatBytes,
  formatCount,
  heartbeatCell,
  now,
  paintState,
  printJson,
  renderFields,
  shellQuote,
  tokensCell,
  uptime,
} from "../render/format.ts";
import { isClaude } from "../../lib/claude/command.ts";
import { costSourceText, formatCost } from "../../lib/cost.ts";
import { printTable } from "../render/table.ts";
import { worktreeCell, worktreeFields } from "../render/worktree.ts";
import { tokenTotal } from "../../lib/tokens.ts";

export interface RunnersOptions extends GlobalOptions {
  project?: string;
  state?: string;
  all?: boolean;
  quiet?: boolean;
}

// Narrow terminals lose PID first, then MEM, CPU, TOKENS, HEARTBEAT and UPTIME; ID, PROJECT and STATE stay.
const HEADERS = ["ID", "PROJECT", "STATE", "PID", "UPTIME", "CPU", "MEM", "TOKENS", "HEARTBEAT", "WORKTREE"];
const PRIORITY = [9, 9, 9, 1, 6, 3, 2, 4, 5, 7];
const ALIGN: ("l" | "r")[] = ["r", "l", "l", "r", "l", "r", "r", "r", "l", "l"];

export async function runnersCommand(opts: RunnersOptions): Promise<void> {
  const ctx = contextFrom(opts);
  const state = opts.state === undefined ? undefined : parseChoice("--state", opts.state, RUNNER_STATES);
  const client = await connect(ctx);
  const runners = await client.listRunners({ project: opts.project, state, all: opts.all || undefined });
  // An empty list for a project that does not exist is a typo: say so (not_found, exit 1).
  if (runners.length === 0 && opts.project) await client.getProject(opts.project);
  if (ctx.json) return printJson({ runners });
  if (opts.quiet) {
    for (const r of runners) console.log(r.id);
    return;
  }
  if (runners.length === 0) {
    const where = opts.project ? ` in project ${opts.project}` : "";
    const what = state ? `${state} runners` : opts.all ? "runners" : "active runners";
    const hint = state || opts.all ? "" : ' ("stratavore runners --all" shows ended ones too)';
    console.error(`no ${what}${where}${hint}`);
    return;
  }
  const ttl = ctx.loaded.config.heartbeatTtl;
  const at = now();
  // The WORKTREE column only when some runner has one.
  const wt = runners.some((r) => r.worktree) ? HEADERS.length : HEADERS.length - 1;
  printTable(
    HEADERS.slice(0, wt),
    runners.map((r) =>
      [
        String(r.id),
        r.project,
        paintState(r, ctx.color),
        r.pid === null ? "-" : String(r.pid),
        uptime(r, at),
        r.cpuPercent === null ? "-" : `${r.cpuPercent.toFixed(1)}%`,
        formatBytes(r.rssBytes),
        tokensCell(r),
        heartbeatCell(r, ttl, ctx.color, at),
        worktreeCell(r),
      ].slice(0, wt)
    ),
    { color: ctx.color, priority: PRIORITY.slice(0, wt), align: ALIGN.slice(0, wt) },
  );
}

export async function runnerShowCommand(idText: string, opts: GlobalOptions): Promise<void> {
  const ctx = contextFrom(opts);
  const id = parseRunnerId(idText);
  const r = await (await connect(ctx)).getRunner(id);
  if (ctx.json) return printJson(r);
  console.log(renderFields(runnerFields(r, ctx.loaded.config.heartbeatTtl, ctx.color), ctx.color));
}

const dash = (
  v: string | number | null | undefined,
) => (v === null || v === undefined || v === "" ? "-" : String(v));
const exact = (n: number) => n.toLocaleString("en-US");
const when = (iso: string | null, at: number) => (iso ? `${iso} (${formatAge(iso, at)})` : "-");

/** A runner the usage limit stopped: until when, and who continues it after the reset. */
function limitField(r: Runner, at: number): [string, string][] {
  if (!r.limitedUntil) {
    return r.resumedFrom ? [["continues", `runner ${r.resumedFrom} (after a usage limit)`]] : [];
  }
  const ahead = Date.parse(r.limitedUntil) > at;
  const who = r.mode === "headless"
    ? "Stratavore continues it after the reset (unless STRATAVORE_LIMIT_RESUME is off)"
    : r.autoContinue
    ? "Claude Code continues it by itself after the reset"
    : "continue it by hand after the reset";
  return [[
    "limit",
    `${ahead ? "limited until" : "was limited until"} ${r.limitedUntil} (${r.limitedWindow ?? "?"})${
      ahead ? `; ${who}` : ""
    }`,
  ]];
}

export function runnerFields(r: Runner, ttlMs: number, color: boolean): [string, string][] {
  const at = now();
  const t = r.tokens;
  const activity = r.activity
    ? `${r.activity.replaceAll("_", " ")}${r.activityDetail ? ` (${r.activityDetail})` : ""}` +
      (r.activityAt ? `, ${formatAge(r.activityAt, at)}` : "")
    : "-";
  const exit = r.exitCode !== null
    ? `code ${r.exitCode}${r.exitSignal ? `, signal ${r.exitSignal}` : ""}`
    : r.exitSignal
    ? `signal ${r.exitSignal}`
    : "-";
  const labels = Object.entries(r.labels).map(([k, v]) => `${k}=${v}`).join(", ");
  const prompt = r.prompt === null
    ? "-"
    : JSON.stringify(r.prompt.length > 200 ? r.prompt.slice(0, 199) + "…" : r.prompt);
  return [
    ["id", String(r.id)],
    ["project", r.project],
    ["state", paintState({ state: r.state, activity: null }, color)],
    ["activity", activity],
    ["reason", dash(r.reason)],
    ...limitField(r, at),
    ["exit", exit],
    ["mode", r.mode],
    ["command", [r.command, ...r.args].map(shellQuote).join(" ")],
    ["folder", r.cwd],
    ...worktreeFields(r.worktree, color),
    ["prompt", prompt],
    ["host", dash(r.host)],
    ["pid", dash(r.pid)],
    ["session", dash(r.sessionId)],
    ["log", dash(r.logPath)],
    ["labels", labels || "-"],
    ["created", when(r.createdAt, at)],
    ["started", when(r.startedAt, at)],
    ["ended", when(r.endedAt, at)],
    ["uptime", uptime(r, at)],
    [
      "heartbeat",
      r.lastHeartbeatAt
        ? `${heartbeatCell(r, ttlMs, color, at)} (${exact(r.heartbeatCount)} received)`
        : r.endedAt
        ? "none"
        : "none yet",
    ],
    ["cpu", r.cpuPercent === null ? "-" : `${r.cpuPercent.toFixed(1)}%`],
    ["memory", formatBytes(r.rssBytes)],
    [
      "tokens",
      isClaude(r.command)
        ? `${formatCount(tokenTotal(t))} (${exact(tokenTotal(t))})`
        : `n/a: token accounting reads Claude Code's transcripts, and ${r.command} is not claude`,
    ],
    ["  input", exact(t.input)],
    ["  output", exact(t.output)],
    ["  cache write", exact(t.cacheCreation)],
    ["  cache read", exact(t.cacheRead)],
    [
      "cost",
      isClaude(r.command) ? `${formatCost(r.cost, 6)} (${costSourceText(r.cost)})` : "n/a",
    ],
    ["telemetry", telemetryText(r)],
    ...(r.apiCalls && r.apiCalls.requests + r.apiCalls.errors > 0
      ? [[
        "api calls",
        `${exact(r.apiCalls.requests)} (${r.apiCalls.errors} failed)` +
        (r.apiCalls.meanMs !== null ? `, ${(r.apiCalls.meanMs / 1000).toFixed(1)}s on average` : ""),
      ] as [string, string]]
      : []),
  ];
}

/** Where the runner's Claude Code telemetry goes, and so where its cost comes from. */
function telemetryText(r: Runner): string {
  switch (r.telemetry) {
    case "stratavore":
      return "to this daemon: costs are Claude Code's own";
    case "user":
      return `yours (to ${
        r.telemetryEndpoint ?? "your exporter"
      }), left as it was: costs are estimated from transcripts`;
    case "off":
      return "off (STRATAVORE_CLAUDE_TELEMETRY): costs are estimated from transcripts";
    default:
      return "-";
  }
}
