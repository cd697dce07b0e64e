/**
 * Runners' worktrees (admin): a runner's diff against its base, the list of worktrees, removing one, and
 * pruning those with nothing to keep. Git runs here, on the daemon's machine: a worktree made on another
 * machine (an interactive launch there) is reached through the daemon of that machine.
 */
import { z } from "zod";
import { AppError } from "../../lib/errors.ts";
import { projectName, runnerIdText } from "../../lib/schemas/common.ts";
import type { Runner } from "../../lib/schemas/runner.ts";
import { disposeWorktree, exists, removeWorktree } from "../../lib/worktree.ts";
import { type Made, made, runnerDiff } from "../../lib/runner_diff.ts";
import { readParam } from "../http/body.ts";
import { type Route, Routes } from "../http/route.ts";
import type { Services } from "../services.ts";
import { isActive } from "../../lib/runner_states.ts";
import { getRunner } from "../store/runners.ts";
import { listWorktrees, setWorktreeState } from "../store/worktrees.ts";

const flag = z.enum(["true", "false", "1", "0"]).optional().transform((v) => v === "true" || v === "1");
const diffPath = z.string().min(1).max(4096).refine((p) => !p.startsWith("-"), "a path cannot start with -");

/** The worktree is on this machine (its folder, or at least its repository for a removed one). */
function here(s: Services, r: Runner, w: Made): void {
  if (exists(w.path) || exists(w.repo)) return;
  const where = w.host && w.host !== s.host ? `on ${w.host}` : "not on this machine";
  throw new AppError(
    "conflict",
    `runner ${r.id}'s worktree ${w.path} is ${where}: ask the daemon there (stratavore --url …), where git can read it`,
    { details: { reason: "elsewhere", host: w.host } },
  );
}

export function worktreeRoutes(s: Services): Route[] {
  const app = new Routes();

  app.get("/runners/:id/diff", { auth: "admin" }, async (c) => {
    const id = readParam("runner id", c.req.param("id"), runnerIdText);
    const statOnly = readParam("stat flag", c.req.query("stat"), flag);
    const paths = (c.req.queries("path") ?? []).slice(0, 100).map((p) => readParam("path", p, diffPath));
    const r = await getRunner(s.db, id);
    here(s, r, made(r));
    return c.json(await runnerDiff(r, { statOnly, paths }));
  });

  app.get("/worktrees", { auth: "admin" }, async (c) => {
    const project = c.req.query("project")
      ? readParam("project", c.req.query("project"), projectName)
      : undefined;
    const all = readParam("all flag", c.req.query("all"), flag);
    return c.json({ worktrees: await listWorktrees(s.db, { project, all }) });
  });

  /** Removes an ended runner's worktree; its branch too with deleteBranch. A dirty one needs force. */
  app.delete("/worktrees/:id", { auth: "admin" }, async (c) => {
    const id = readParam("runner id", c.req.param("id"), runnerIdText);
    const force = readParam("force flag", c.req.query("force"), flag);
    const deleteBranch = readParam("deleteBranch flag", c.req.query("deleteBranch"), flag);
    const r = await getRunner(s.db, id);
    const w = made(r);
    if (isActive(r.state) && w.state === "active") {
      throw new AppError("conflict", `runner ${id} is still ${r.state} in its worktree: stop it first`, {
        details: { reason: "in_use" },
      });
    }
    if (w.state === "reopened") {
      throw new AppError(
        "conflict",
        `runner ${id}'s worktree is used by a later runner (${w.note ?? "resumed"})`,
      );
    }
    here(s, r, w);
    if (exists(w.repo)) await removeWorktree(w.repo, w.path, w.branch, { force, deleteBranch });
    const note = `removed by hand${deleteBranch ? " with its branch" : `; branch ${w.branch} kept`}`;
    await s.db.transaction((tx) => setWorktreeState(tx, id, "removed", note));
    return c.json(await getRunner(s.db, id));
  });

  /**
   * For every ended runner's worktree on this machine: removed when it holds nothing (no commits, no
   * changes) or its folder is gone; kept otherwise. Worktrees of other machines are left to their daemon.
   */
  app.post("/worktrees/prune", { auth: "admin" }, async (c) => {
    const removed: number[] = [];
    const kept: number[] = [];
    const elsewhere: number[] = [];
    for (const r of await listWorktrees(s.db)) {
      const w = r.worktree!;
      if (isActive(r.state) || !w.path || !w.repo || !w.baseSha) continue;
      if (!exists(w.path) && !exists(w.repo)) {
        if (w.host && w.host !== s.host) elsewhere.push(r.id);
        else {
          await s.db.transaction((tx) => setWorktreeState(tx, r.id, "removed", "its folder was gone"));
          removed.push(r.id);
        }
        continue;
      }
      const d = await disposeWorktree({ ...w, path: w.path, repo: w.repo, baseSha: w.baseSha });
      await s.db.transaction((tx) =>
        setWorktreeState(tx, r.id, d.removed ? "removed" : "kept", d.note, d.status)
      );
      (d.removed ? removed : kept).push(r.id);
    }
    return c.json({ removed, kept, elsewhere });
  });

  return app.list;
}
