/** The `watch` screen as text lines: a pure function of what the dashboard knows, its size and the time. */
import type { Budget } from "../../lib/schemas/budget.ts";
import type { EventEnvelope } from "../../lib/schemas/event.ts";
import type { Project } from "../../lib/schemas/project.ts";
import type { Runner } from "../../lib/schemas/runner.ts";
import { padEnd, paint, truncate, visibleWidth } from "./ansi.ts";
import { usageBar } from "./bar.ts";
import { eventLine } from "./events.ts";
import {
  formatBytes,
  formatCount,
  heartbeatCell,
  paintState,
  renderFields,
  tokensCell,
  uptime,
} from "./format.ts";
import { worktreeCell, worktreeFields } from "./worktree.ts";

export interface WatchState {
  url: string;
  stream: "connecting" | "live" | "reconnecting";
  projects: Project[];
  runners: Map<number, Runner>;
  budgets: Budget[];
  events: EventEnvelope[];
  selected?: number;
  view: "list" | "details";
  confirmKill?: number;
  message?: string;
  ttlMs: number;
}

/** Runners in display order: by project, then id; the order selection moves through. */
export function orderedRunners(s: WatchState): Runner[] {
  return [...s.runners.values()].sort((a, b) => a.project.localeCompare(b.project) || a.id - b.id);
}

function runnerLine(r: Runner, s: WatchState, width: number, color: boolean, now: number): string {
  const mark = r.id === s.selected ? paint("▶", "cyan", color) : " ";
  const cells = [
    padEnd(String(r.id), 6),
    padEnd(paintState(r, color), 30),
    padEnd(uptime(r, now), 8),
    padEnd(r.cpuPercent === null ? "-" : `${r.cpuPercent.toFixed(1)}%`, 7),
    padEnd(formatBytes(r.rssBytes), 9),
    padEnd(tokensCell(r), 8),
    heartbeatCell(r, s.ttlMs, color, now),
    ...(r.worktree ? ["  " + worktreeCell(r)] : []),
  ];
  let line = ` ${mark} ${cells.join("")}`;
  // Narrow terminals lose the right-hand columns first; the state never goes.
  while (visibleWidth(line) > width && cells.length > 2) {
    cells.splice(cells.length - 2, 1);
    line = ` ${mark} ${cells.join("")}`;
  }
  return truncate(line, width);
}

function projectLine(
  p: Project | undefined,
  name: string,
  s: WatchState,
  width: number,
  color: boolean,
): string {
  const budget = s.budgets.find((b) => b.scope === "project" && b.scopeRef === name);
  const head = paint(name, "bold", color) + (p ? `  ${p.activeRunners}/${p.maxRunners}` : "");
  const bar = budget
    ? `  ${usageBar(budget.usage.percent, 12, color, budget.usage.state)} ${budget.usage.percent}% of ${
      budget.tokenLimit ? `${formatCount(budget.tokenLimit)} tokens` : `$${budget.costLimitUsd}`
    } (${budget.period})`
    : p
    ? `  ${formatCount(p.tokensThisPeriod)} tokens this period`
    : "";
  return truncate(` ${head}${bar}`, width);
}

export function renderScreen(
  s: WatchState,
  size: { columns: number; rows: number },
  color: boolean,
  now: number,
): string[] {
  const width = size.columns;
  const runners = orderedRunners(s);
  const running = runners.filter((r) => r.state === "running").length;
  const waiting = runners.filter((r) => r.activity === "waiting_for_input").length;
  const streamText = s.stream === "live"
    ? paint("live", "green", color)
    : paint(s.stream === "connecting" ? "connecting…" : "reconnecting…", "yellow", color);
  const clock = new Date(now).toISOString().slice(11, 19);
  const title = ` stratavore watch · ${s.url} · ${running} running${
    waiting ? ` · ${waiting} waiting for input` : ""
  } · events ${streamText}`;
  const lines: string[] = [
    truncate(title, width - 10) + " ".repeat(Math.max(1, width - visibleWidth(title) - 9)) + clock,
  ];
  const rule = paint("─".repeat(width), "gray", color);
  lines.push(rule);

  if (s.view === "details" && s.selected !== undefined && s.runners.has(s.selected)) {
    const r = s.runners.get(s.selected)!;
    const fields: [string, string][] = [
      ["runner", `${r.id} (${r.project})`],
      ["state", paintState(r, color) + (r.activityDetail ? ` · ${r.activityDetail}` : "")],
      ["command", [r.command, ...r.args].join(" ")],
      ["folder", r.cwd],
      ...(r.worktree ? worktreeFields(r.worktree, color) : []),
      ["host / pid", `${r.host ?? "-"} / ${r.pid ?? "-"}`],
      ["session", r.sessionId ?? "-"],
      ["uptime", uptime(r, now)],
      ["cpu / memory", `${r.cpuPercent === null ? "-" : r.cpuPercent + "%"} / ${formatBytes(r.rssBytes)}`],
      [
        "tokens",
        `in ${r.tokens.input} · out ${r.tokens.output} · cache write ${r.tokens.cacheCreation} · cache read ${r.tokens.cacheRead}`,
      ],
      ["last heartbeat", heartbeatCell(r, s.ttlMs, color, now)],
      ["reason", r.reason ?? "-"],
      ["exit", r.exitCode === null ? "-" : `${r.exitCode}${r.exitSignal ? ` (${r.exitSignal})` : ""}`],
      ...(r.pendingPermission
        ? [[
          "asks permission",
          paint(r.pendingPermission.summary, "yellow", color) +
          (r.pendingPermission.remote ? " · a approve · d deny" : " · answer it in its terminal"),
        ] as [string, string]]
        : []),
    ];
    lines.push(...renderFields(fields, color).split("\n").map((l) => truncate(" " + l, width)));
  } else {
    const names = [...new Set([...s.projects.map((p) => p.name), ...runners.map((r) => r.project)])].sort();
    if (names.length === 0) lines.push(' no projects yet: create one with "stratavore new <name>"');
    for (const name of names) {
      lines.push(projectLine(s.projects.find((p) => p.name === name), name, s, width, color));
      const mine = runners.filter((r) => r.project === name);
      if (mine.length === 0) lines.push(paint("     (no active runners)", "gray", color));
      for (const r of mine) lines.push(runnerLine(r, s, width, color, now));
    }
  }

  const footerHelp = s.confirmKill !== undefined
    ? paint(` kill runner ${s.confirmKill}? y to confirm, any other key to cancel`, "red", color)
    : s.view === "details"
    ? ` enter/esc back · s stop · x kill${
      s.runners.get(s.selected!)?.pendingPermission?.remote ? " · a approve · d deny" : ""
    } · q quit`
    : " ↑/↓ j/k select · enter details · s stop · x kill · q quit";
  const eventRoom = Math.max(0, size.rows - lines.length - 4);
  const shown = s.events.slice(-Math.min(eventRoom, 8));
  const footer = [rule, ...shown.map((e) => truncate(" " + eventLine(e, color), width))];
  if (s.message) footer.push(truncate(" " + s.message, width));
  footer.push(truncate(footerHelp, width));
  while (lines.length + footer.length < size.rows) lines.push("");
  return [...lines.slice(0, Math.max(2, size.rows - footer.length)), ...footer];
}
