/** What a runner changed against its base, from its worktree (or its branch once the worktree is gone). */
import { AppError } from "./errors.ts";
import type { Runner } from "./schemas/runner.ts";
import type { RunnerDiff, WorktreeInfo } from "./schemas/worktree.ts";
import { branchExists, diffBranch, diffWorktree, exists } from "./worktree.ts";

export type Made = WorktreeInfo & { path: string; repo: string; baseSha: string };

export function made(r: Runner): Made {
  const w = r.worktree;
  if (!w) {
    throw new AppError(
      "conflict",
      `runner ${r.id} has no worktree: it ran in its project's folder (${r.cwd})`,
      {
        details: { reason: "no_worktree" },
      },
    );
  }
  if (!w.path || !w.repo || !w.baseSha) {
    throw new AppError("conflict", `runner ${r.id}'s worktree has not been made yet (it is ${w.state})`, {
      details: { reason: "not_made" },
    });
  }
  return w as Made;
}

export async function runnerDiff(
  r: Runner,
  o: { statOnly?: boolean; paths?: string[]; maxBytes?: number },
): Promise<RunnerDiff> {
  const w = made(r);
  const head = { runnerId: r.id, branch: w.branch, base: w.base, baseSha: w.baseSha };
  if (exists(w.path)) return { ...head, source: "worktree", ...await diffWorktree(w.path, w.baseSha, o) };
  if (exists(w.repo) && await branchExists(w.repo, w.branch)) {
    return { ...head, source: "branch", ...await diffBranch(w.repo, w.baseSha, w.branch, o) };
  }
  if (w.state === "removed" && w.status && w.status.files === 0 && w.status.ahead === 0) {
    // Removed at the end because nothing was done: the diff is empty.
    return { ...head, source: "branch", files: [], truncated: false };
  }
  throw new AppError(
    "conflict",
    `runner ${r.id}'s worktree and its branch ${w.branch} are gone: no diff left`,
    {
      details: { reason: "gone" },
    },
  );
}
