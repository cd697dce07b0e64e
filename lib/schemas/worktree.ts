/** A runner's git worktree: what a launch asks for, what the agent reports, what the API shows. */
import { z } from "zod";
import { timestamp } from "./common.ts";

/** A worktree's name: one path segment and one part of a branch name. */
export const WORKTREE_NAME_RE = /^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$/;
export const worktreeName = z.string().regex(
  WORKTREE_NAME_RE,
  "a worktree name is 1-63 characters of A-Z a-z 0-9 . _ -, starting with a letter or digit",
).refine((v) => !v.endsWith(".lock") && !v.includes(".."), "a worktree name cannot end in .lock or hold ..");

/** A git revision to start from: a branch, a tag, a commit (never an option: no leading '-'). */
export const gitRef = z.string().min(1).max(256).regex(
  /^[A-Za-z0-9_][A-Za-z0-9_./@^~{}+-]*$/,
  "expected a git branch, tag or commit",
);

/** Per project: every launch gets a worktree (auto) unless it says otherwise, or only when asked (off). */
export const WORKTREE_MODES = ["off", "auto"] as const;
export const worktreeMode = z.enum(WORKTREE_MODES);

/** In a launch request: false for none (overrides the project's auto), or the worktree's options. */
export const worktreeRequest = z.union([
  z.literal(false),
  z.strictObject({
    /** Names the branch (stratavore/<project>/<name>) and the folder; default: the runner's id. */
    name: worktreeName.optional(),
    /** Where the branch starts; default: what the project's folder has checked out (its HEAD). */
    base: gitRef.optional(),
    /** Refuse when the project's folder has uncommitted changes (they would not be in the worktree). */
    requireCleanBase: z.boolean().optional(),
    /** Reopen this earlier runner's worktree (resume of its session) instead of making a new one. */
    reopen: z.number().int().positive().max(Number.MAX_SAFE_INTEGER).optional(),
  }),
]);
export type WorktreeRequest = z.infer<typeof worktreeRequest>;

/** One changed file against the base: lines added and deleted (null for a binary file). */
export const changedFile = z.object({
  path: z.string(),
  added: z.number().int().nonnegative().nullable(),
  deleted: z.number().int().nonnegative().nullable(),
});
export type ChangedFile = z.infer<typeof changedFile>;

/** What a worktree holds against its base, committed and uncommitted together. */
export const worktreeStatus = z.strictObject({
  /** Commits on the branch since the base. */
  ahead: z.number().int().nonnegative(),
  /** Commits the base branch gained since (0 when the base is not a branch). */
  behind: z.number().int().nonnegative(),
  /** Uncommitted changes (untracked files included). */
  dirty: z.boolean(),
  files: z.number().int().nonnegative(),
  insertions: z.number().int().nonnegative(),
  deletions: z.number().int().nonnegative(),
  /** The changed files (at most 500; `files` is the full count). */
  changed: z.array(changedFile.strict()).max(500),
  at: timestamp,
});
export type WorktreeStatus = z.infer<typeof worktreeStatus>;

/**
 * planned: asked for at launch, not made yet; active: the session runs in it; kept: the runner ended and
 * the worktree holds work (commits or changes); removed: gone (nothing to keep, or removed by hand);
 * reopened: a later runner (resume) took it over.
 */
export const WORKTREE_STATES = ["planned", "active", "kept", "removed", "reopened"] as const;
export const worktreeState = z.enum(WORKTREE_STATES);
export type WorktreeState = z.infer<typeof worktreeState>;

export const worktreeInfo = z.object({
  state: worktreeState,
  name: z.string().nullable(),
  branch: z.string(),
  /** The base as asked (a branch name when it was the project's checked-out branch). */
  base: z.string().nullable(),
  baseSha: z.string().nullable(),
  /** The worktree's folder on the runner's machine. */
  path: z.string().nullable(),
  /** The repository it belongs to (its main working tree). */
  repo: z.string().nullable(),
  host: z.string().nullable(),
  /** Reopen an earlier runner's worktree (resume). */
  reopen: z.number().nullable().optional(),
  requireCleanBase: z.boolean().optional(),
  status: worktreeStatus.nullable(),
  /** Why it was kept or removed. */
  note: z.string().nullable().optional(),
});
export type WorktreeInfo = z.infer<typeof worktreeInfo>;

/** POST /runners/:id/worktree (the agent): made, changed, or ended (kept or removed). */
export const worktreeReport = z.strictObject({
  state: z.enum(["active", "kept", "removed"]),
  branch: z.string().min(1).max(300),
  base: z.string().max(300).nullable(),
  baseSha: z.string().regex(/^[0-9a-f]{40,64}$/),
  path: z.string().min(1).max(4096),
  repo: z.string().min(1).max(4096),
  host: z.string().min(1).max(255),
  /** The folder the session runs in (the worktree, or the same subfolder of it as the launch's). */
  cwd: z.string().min(1).max(4096).optional(),
  status: worktreeStatus.nullable(),
  note: z.string().max(2000).optional(),
});
export type WorktreeReport = z.infer<typeof worktreeReport>;

/** One file's diff, readable on its own. */
export const fileDiff = z.object({
  path: z.string(),
  /** The old path of a rename or copy. */
  from: z.string().nullable(),
  status: z.enum(["added", "deleted", "modified", "renamed", "copied", "mode"]),
  added: z.number().nullable(),
  deleted: z.number().nullable(),
  binary: z.boolean(),
  patch: z.string(),
});
export type FileDiff = z.infer<typeof fileDiff>;

export const runnerDiff = z.object({
  runnerId: z.number(),
  branch: z.string(),
  base: z.string().nullable(),
  baseSha: z.string(),
  /** Where it was read: the worktree (committed and uncommitted), or the branch alone (worktree gone). */
  source: z.enum(["worktree", "branch"]),
  files: z.array(fileDiff),
  /** The whole patch was larger than the limit: the last files are cut. */
  truncated: z.boolean(),
});
export type RunnerDiff = z.infer<typeof runnerDiff>;
