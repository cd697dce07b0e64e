/** Runners' worktrees in the database: what the agent reports, and the list `stratavore worktrees` shows. */
import type { Queryable } from "../../lib/db/types.ts";
import { AppError } from "../../lib/errors.ts";
import type { Runner } from "../../lib/schemas/runner.ts";
import type {
  WorktreeInfo,
  WorktreeReport,
  WorktreeState,
  WorktreeStatus,
} from "../../lib/schemas/worktree.ts";
import { emit } from "./outbox.ts";
import { getRunner, RUNNER_SELECT, type RunnerRow, toRunner } from "./runners.ts";

/**
 * The agent's report: the worktree made (or reopened), changed, kept or removed. A change of state is an
 * event (`runner.worktree`); a new status alone is not (it comes with every change of files).
 */
export async function recordWorktree(tx: Queryable, id: number, body: WorktreeReport): Promise<Runner> {
  const current = await getRunner(tx, id, true);
  const prev = current.worktree;
  if (!prev) {
    throw new AppError("conflict", `runner ${id} was launched without a worktree`);
  }
  const next: WorktreeInfo = {
    ...prev,
    state: body.state,
    branch: body.branch,
    base: body.base,
    baseSha: body.baseSha,
    path: body.path,
    repo: body.repo,
    host: body.host,
    status: body.status ?? prev.status,
    note: body.note ?? (body.state === prev.state ? prev.note ?? null : null),
  };
  await tx.query(
    "UPDATE runners SET worktree = $2::jsonb, cwd = coalesce($3, cwd), updated_at = now() WHERE id = $1",
    [id, next, body.cwd ?? null],
  );
  if (body.state === "active" && prev.state === "planned" && prev.reopen) {
    // The earlier runner's worktree is this one's now: listed once, under the runner using it.
    await setWorktreeState(tx, prev.reopen, "reopened", `reopened by runner ${id}`);
  }
  const runner = await getRunner(tx, id);
  if (prev.state !== body.state) {
    await emit(tx, {
      type: "runner.worktree",
      entityId: id,
      project: runner.project,
      payload: { runner, worktree: next },
    });
  }
  return runner;
}

export async function setWorktreeState(
  tx: Queryable,
  id: number,
  state: WorktreeState,
  note: string,
  /** What git said of it when it was disposed of (kept for the record). */
  status?: WorktreeStatus | null,
): Promise<void> {
  await tx.query(
    `UPDATE runners SET worktree = worktree || jsonb_build_object('state', $2::text, 'note', $3::text)
     WHERE id = $1 AND worktree IS NOT NULL`,
    [id, state, note],
  );
  if (status) {
    await tx.query("UPDATE runners SET worktree = jsonb_set(worktree, '{status}', $2::jsonb) WHERE id = $1", [
      id,
      status,
    ]);
  }
}

/** Worktrees that are (or may still be) on disk: active and kept; with `all`, removed and reopened too. */
export async function listWorktrees(
  q: Queryable,
  f: { project?: string; all?: boolean } = {},
): Promise<Runner[]> {
  const params: unknown[] = [];
  const where = ["r.worktree IS NOT NULL"];
  if (!f.all) where.push("r.worktree->>'state' IN ('planned', 'active', 'kept')");
  if (f.project) {
    params.push(f.project);
    where.push(`p.name = $${params.length}`);
  }
  const rows = await q.query<RunnerRow>(
    `${RUNNER_SELECT} WHERE ${where.join(" AND ")} ORDER BY r.id DESC LIMIT 1000`,
    params,
  );
  return rows.map(toRunner);
}
