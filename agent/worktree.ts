/**
 * The runner's worktree on this machine: made (or reopened) before the command starts, its status sent to
 * the daemon whenever it changes, and at the end removed when nothing was done, or kept for review.
 */
import { ApiError, type RunnerClient } from "../lib/runner_client.ts";
import type { Logger } from "../lib/log.ts";
import type { WorktreeInfo, WorktreeReport, WorktreeStatus } from "../lib/schemas/worktree.ts";
import {
  createWorktree,
  type Disposal,
  disposeWorktree,
  reopenWorktree,
  type Worktree,
  worktreePath,
  worktreeStatus,
} from "../lib/worktree.ts";

/** Makes the planned worktree: a new branch from the base, or an earlier runner's reopened (resume). */
export async function makeWorktree(
  plan: WorktreeInfo,
  o: { root: string; project: string; runnerId: number; folder: string },
): Promise<Worktree> {
  if (plan.reopen && plan.path && plan.repo && plan.baseSha) {
    return await reopenWorktree({
      branch: plan.branch,
      base: plan.base,
      baseSha: plan.baseSha,
      path: plan.path,
      repo: plan.repo,
      cwd: o.folder,
    });
  }
  return await createWorktree({
    folder: o.folder,
    branch: plan.branch,
    path: worktreePath(o.root, o.project, plan.name ?? o.runnerId),
    base: plan.base,
    requireCleanBase: plan.requireCleanBase,
  });
}

export class WorktreeWatch {
  #sent?: string;
  #timer?: ReturnType<typeof setInterval>;
  #busy?: Promise<void>;
  #last: WorktreeStatus | null = null;

  constructor(
    private o: { client: RunnerClient; runnerId: number; wt: Worktree; intervalMs: number; log: Logger },
  ) {}

  get status(): WorktreeStatus | null {
    return this.#last;
  }

  #body(state: WorktreeReport["state"], status: WorktreeStatus | null, note?: string): WorktreeReport {
    const { wt } = this.o;
    return {
      state,
      branch: wt.branch,
      base: wt.base,
      baseSha: wt.baseSha,
      path: wt.path,
      repo: wt.repo,
      host: Deno.hostname(),
      cwd: wt.cwd,
      status,
      ...(note ? { note } : {}),
    };
  }

  /** Reads the status and sends it if it changed (or was never taken); never throws. */
  async tick(): Promise<void> {
    if (this.#busy) return await this.#busy;
    this.#busy = (async () => {
      try {
        const status = await worktreeStatus(this.o.wt.path, this.o.wt.baseSha, this.o.wt.base);
        this.#last = status;
        const key = JSON.stringify({ ...status, at: undefined });
        if (key === this.#sent) return;
        await this.o.client.worktreeReport(this.o.runnerId, this.#body("active", status));
        this.#sent = key;
      } catch (e) {
        this.o.log.debug("could not report the worktree's status; next time", {
          error: (e as Error).message,
        });
      }
    })();
    try {
      await this.#busy;
    } finally {
      this.#busy = undefined;
    }
  }

  start(): void {
    this.#timer = setInterval(() => void this.tick(), Math.max(1000, this.o.intervalMs));
  }

  /** The command ended: remove the worktree if it holds nothing, else keep it; tell the daemon (retried). */
  async finish(): Promise<Disposal> {
    clearInterval(this.#timer);
    await this.#busy;
    let d: Disposal;
    try {
      d = await disposeWorktree(this.o.wt);
    } catch (e) {
      d = { removed: false, note: `kept: ${(e as Error).message}`, status: this.#last };
    }
    const body = this.#body(d.removed ? "removed" : "kept", d.status, d.note);
    for (let i = 0; i < 6; i++) {
      try {
        await this.o.client.worktreeReport(this.o.runnerId, body);
        break;
      } catch (e) {
        if (e instanceof ApiError && e.httpStatus < 500) break;
        await new Promise((r) => setTimeout(r, 500 * 2 ** i));
      }
    }
    return d;
  }
}

/** One line for the terminal: what the worktree holds. */
export function worktreeSummary(s: WorktreeStatus | null): string {
  if (!s) return "";
  const parts = [
    s.ahead ? `${s.ahead} commit(s)` : "",
    s.files ? `${s.files} file(s) +${s.insertions} −${s.deletions}` : "",
    s.dirty ? "uncommitted changes" : "",
  ].filter(Boolean);
  return parts.join(", ");
}
