/** A runner's worktree as text: a short cell for tables, a few lines for details, a --stat like git's. */
import type { Runner } from "../../lib/schemas/runner.ts";
import type { FileDiff, WorktreeInfo, WorktreeStatus } from "../../lib/schemas/worktree.ts";
import { paint } from "./ansi.ts";

/** "↑2 3f +10 −4 *": commits ahead, files changed, lines, and * when uncommitted changes wait. */
export function changesCell(s: WorktreeStatus | null): string {
  if (!s) return "…";
  if (s.files === 0 && s.ahead === 0 && !s.dirty) return "clean";
  const parts = [
    s.ahead ? `↑${s.ahead}` : "",
    s.behind ? `↓${s.behind}` : "",
    `${s.files}f +${s.insertions} −${s.deletions}`,
  ].filter(Boolean);
  return parts.join(" ") + (s.dirty ? " *" : "");
}

/** The runners table's WORKTREE column: the worktree's name (the branch's last part) and its changes. */
export function worktreeCell(r: Pick<Runner, "worktree">): string {
  const w = r.worktree;
  if (!w) return "-";
  const name = w.branch.slice(w.branch.lastIndexOf("/") + 1);
  if (w.state === "planned") return `${name} (making)`;
  if (w.state === "removed") return `${name} (removed)`;
  return `${name} ${changesCell(w.status)}`;
}

export function statusText(s: WorktreeStatus | null): string {
  if (!s) return "not read yet";
  const commits = `${s.ahead} commit(s) ahead${s.behind ? `, ${s.behind} behind its base branch` : ""}`;
  const files = `${s.files} file(s) changed, +${s.insertions} −${s.deletions}`;
  return `${commits}; ${files}; ${s.dirty ? "uncommitted changes" : "nothing uncommitted"}`;
}

/** Detail lines for `runner` and `watch`. */
export function worktreeFields(w: WorktreeInfo | null, color: boolean): [string, string][] {
  if (!w) return [];
  const state = w.state === "kept"
    ? paint("kept", "yellow", color)
    : w.state === "active"
    ? paint("active", "green", color)
    : w.state;
  return [
    ["worktree", `${state}${w.path ? ` ${w.path}` : ""}${w.host ? ` on ${w.host}` : ""}`],
    ["  branch", w.branch],
    [
      "  base",
      w.baseSha ? `${w.base ?? "(detached)"} at ${w.baseSha.slice(0, 12)}` : (w.base ?? "the folder's HEAD"),
    ],
    ["  changes", statusText(w.status)],
    ...(w.note ? [["  note", w.note] as [string, string]] : []),
  ];
}

/** A --stat like git's: one line per file with its +/− bar, then the totals. */
export function renderStat(files: FileDiff[], color: boolean, width = 80): string {
  if (files.length === 0) return "";
  const names = files.map((f) => (f.from ? `${f.from} => ${f.path}` : f.path));
  const nameWidth = Math.min(50, Math.max(...names.map((n) => n.length)));
  const counts = files.map((f) => (f.binary ? 0 : (f.added ?? 0) + (f.deleted ?? 0)));
  const max = Math.max(1, ...counts);
  const countWidth = String(max).length;
  const barRoom = Math.max(10, width - nameWidth - countWidth - 6);
  const lines = files.map((f, i) => {
    let name = names[i];
    if (name.length > nameWidth) name = "..." + name.slice(name.length - nameWidth + 3);
    if (f.binary) return ` ${name.padEnd(nameWidth)} | Bin`;
    const scale = max > barRoom ? barRoom / max : 1;
    const plus = Math.round((f.added ?? 0) * scale);
    const minus = Math.round((f.deleted ?? 0) * scale);
    return ` ${name.padEnd(nameWidth)} | ${String(counts[i]).padStart(countWidth)} ${
      paint("+".repeat(plus), "green", color)
    }${paint("-".repeat(minus), "red", color)}`;
  });
  const ins = files.reduce((n, f) => n + (f.added ?? 0), 0);
  const del = files.reduce((n, f) => n + (f.deleted ?? 0), 0);
  lines.push(
    ` ${files.length} file${files.length === 1 ? "" : "s"} changed, ${ins} insertion${
      ins === 1 ? "" : "s"
    }(+), ${del} deletion${del === 1 ? "" : "s"}(-)`,
  );
  return lines.join("\n");
}
