/**
 * Git worktrees for runners: each session of a project can run in a worktree of its own, on a branch of its
 * own (`stratavore/<project>/<name or runner id>`), so parallel sessions never edit the same files. Made,
 * measured, diffed and removed here with the `git` program on the runner's machine (the agent, and the
 * daemon for its own machine's worktrees). Errors a person can fix are AppErrors with one clear sentence.
 */
import { AppError } from "./errors.ts";
import { homePath } from "./home.ts";
import type { ChangedFile, FileDiff, WorktreeStatus } from "./schemas/worktree.ts";

export interface GitResult {
  code: number;
  stdout: string;
  stderr: string;
}

const GIT_ENV = { GIT_TERMINAL_PROMPT: "0", LC_ALL: "C", GIT_OPTIONAL_LOCKS: "0" };

function gitMissing(): AppError {
  return new AppError(
    "bad_request",
    `git is not installed on ${Deno.hostname()} (not on PATH): install git to use worktrees`,
    { details: { reason: "git_missing" } },
  );
}

/** Runs git; only a missing git throws (the caller reads the exit code). */
export async function git(
  args: string[],
  cwd: string,
  env: Record<string, string> = {},
): Promise<GitResult> {
  let out: Deno.CommandOutput;
  try {
    out = await new Deno.Command("git", {
      args,
      cwd,
      env: { ...GIT_ENV, ...env },
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
    }).output();
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) {
      // Deno says NotFound for a missing cwd too: tell them apart.
      try {
        Deno.statSync(cwd);
      } catch {
        throw new AppError("bad_request", `folder ${cwd} does not exist`, {
          details: { reason: "no_folder" },
        });
      }
      throw gitMissing();
    }
    throw e;
  }
  const dec = new TextDecoder();
  return { code: out.code, stdout: dec.decode(out.stdout), stderr: dec.decode(out.stderr) };
}

async function gitOk(args: string[], cwd: string, what: string, env?: Record<string, string>) {
  const r = await git(args, cwd, env);
  if (r.code !== 0) {
    throw new AppError("failed", `${what}: ${firstLine(r.stderr) || `git exited with ${r.code}`}`);
  }
  return r.stdout;
}

function firstLine(s: string): string {
  return s.split("\n").map((l) => l.replace(/^(fatal|error): /, "").trim()).find((l) => l) ?? "";
}

export interface RepoFacts {
  /** The top of the working tree holding the folder. */
  toplevel: string;
  headSha: string | null;
  /** The checked-out branch (null when detached or with no commit). */
  headBranch: string | null;
  /** The folder's path inside the working tree ("" at its top). */
  prefix: string;
}

/** What the folder's repository has checked out; a clear error when it is not a git repository. */
export async function inspectRepo(folder: string): Promise<RepoFacts> {
  const r = await git(["rev-parse", "--show-toplevel", "--show-prefix"], folder);
  if (r.code !== 0) {
    throw new AppError(
      "bad_request",
      `${folder} is not in a git repository: worktrees need one (run "git init" there and commit, or launch without --worktree)`,
      { details: { reason: "not_a_repository" } },
    );
  }
  const [toplevel, prefix = ""] = r.stdout.split("\n");
  const head = await git(["rev-parse", "--verify", "--quiet", "HEAD^{commit}"], folder);
  const branch = await git(["symbolic-ref", "--quiet", "--short", "HEAD"], folder);
  return {
    toplevel,
    prefix: prefix.replace(/\/$/, ""),
    headSha: head.code === 0 ? head.stdout.trim() : null,
    headBranch: branch.code === 0 ? branch.stdout.trim() : null,
  };
}

/** Uncommitted changes in a working tree, untracked files included (ignored ones not). */
export async function isDirty(folder: string): Promise<boolean> {
  const out = await gitOk(
    ["status", "--porcelain=v1", "-z", "--untracked-files=all"],
    folder,
    `cannot read the status of ${folder}`,
  );
  return out.length > 0;
}

export interface WorktreePlan {
  /** The project's folder (in the repository). */
  folder: string;
  branch: string;
  /** Where the worktree goes (outside the repository). */
  path: string;
  /** A branch, tag or commit; default: the folder's HEAD. */
  /** A branch, tag or commit; default: the folder's HEAD. */
  base?: string | null;
  requireCleanBase?: boolean;
}

export interface Worktree {
  branch: string;
  /** The base as asked, or the folder's checked-out branch when none was asked. */
  base: string | null;
  baseSha: string;
  path: string;
  repo: string;
  /** The launch folder's place in the worktree (the project may be a subfolder of its repository). */
  cwd: string;
}

/**
 * Everything that can be known before a worktree is made, checked: git is there, the folder is in a
 * repository with a commit, the base exists, the branch and the folder are free, the base is clean if that
 * is required. Returns what `createWorktree` will use.
 */
export async function checkWorktree(plan: WorktreePlan): Promise<Worktree>;
/** Before the runner (and so its branch and folder) exists: the branch and folder are checked when named. */
export async function checkWorktree(
  plan: Omit<WorktreePlan, "branch" | "path"> & { branch?: string; path?: string },
): Promise<Omit<Worktree, "branch" | "path"> & { branch?: string; path?: string }>;
export async function checkWorktree(
  plan: Omit<WorktreePlan, "branch" | "path"> & { branch?: string; path?: string },
): Promise<Omit<Worktree, "branch" | "path"> & { branch?: string; path?: string }> {
  const repo = await inspectRepo(plan.folder);
  const base = plan.base ?? repo.headBranch;
  let baseSha: string | null;
  if (plan.base) {
    const r = await git(
      ["rev-parse", "--verify", "--quiet", "--end-of-options", `${plan.base}^{commit}`],
      plan.folder,
    );
    baseSha = r.code === 0 ? r.stdout.trim() : null;
    if (!baseSha) {
      throw new AppError(
        "bad_request",
        `base "${plan.base}" is not a branch, tag or commit of ${repo.toplevel}`,
        {
          details: { reason: "unknown_base" },
        },
      );
    }
  } else {
    baseSha = repo.headSha;
    if (!baseSha) {
      throw new AppError(
        "bad_request",
        `${repo.toplevel} has no commit yet: commit something first (a worktree starts from a commit)`,
        { details: { reason: "no_commit" } },
      );
    }
  }
  if (plan.branch && await branchExists(plan.folder, plan.branch)) {
    throw new AppError(
      "conflict",
      `branch ${plan.branch} already exists in ${repo.toplevel}: pick another name with --worktree NAME, or remove it (git branch -D ${plan.branch})`,
      { details: { reason: "branch_exists", branch: plan.branch } },
    );
  }
  if (plan.path && exists(plan.path)) {
    throw new AppError(
      "conflict",
      `${plan.path} already exists: pick another name with --worktree NAME, or remove that folder`,
      { details: { reason: "path_exists", path: plan.path } },
    );
  }
  if (plan.requireCleanBase && await isDirty(plan.folder)) {
    throw new AppError(
      "conflict",
      `${repo.toplevel} has uncommitted changes, which the worktree would not have: commit or stash them first`,
      { details: { reason: "dirty_base" } },
    );
  }
  return {
    branch: plan.branch,
    base,
    baseSha,
    path: plan.path,
    repo: repo.toplevel,
    cwd: plan.path && repo.prefix ? join(plan.path, repo.prefix) : plan.path ?? "",
  };
}

/**
 * One worktree change at a time per repository, across processes: git's own `worktree add` is not safe
 * against a concurrent one (it reads the other's half-made admin folder). A lock file in the repository's
 * git folder, made with O_EXCL; one older than a minute is a crashed holder's and is taken over.
 */
async function withRepoLock<T>(folder: string, fn: () => Promise<T>): Promise<T> {
  const common = (await gitOk(
    ["rev-parse", "--path-format=absolute", "--git-common-dir"],
    folder,
    `cannot find the repository of ${folder}`,
  )).trim();
  const lock = `${common}/stratavore-worktree.lock`;
  const deadline = Date.now() + 60_000;
  for (;;) {
    try {
      Deno.writeTextFileSync(lock, String(Deno.pid), { createNew: true });
      break;
    } catch (e) {
      if (!(e instanceof Deno.errors.AlreadyExists)) throw e;
      try {
        if (Date.now() - (Deno.statSync(lock).mtime?.getTime() ?? 0) > 60_000) Deno.removeSync(lock);
      } catch { /* gone meanwhile */ }
      if (Date.now() > deadline) {
        throw new AppError(
          "failed",
          `${lock} is held by another worktree change: remove it if nothing is running`,
        );
      }
      await new Promise((r) => setTimeout(r, 20 + Math.random() * 80));
    }
  }
  try {
    return await fn();
  } finally {
    try {
      Deno.removeSync(lock);
    } catch { /* already gone */ }
  }
}

/** Checks, then makes the worktree on a new branch at the base. */
export async function createWorktree(plan: WorktreePlan): Promise<Worktree> {
  await checkWorktree(plan); // its clear errors first (not a repository…), then again under the lock
  return await withRepoLock(plan.folder, async () => {
    const wt = await checkWorktree(plan);
    await Deno.mkdir(parent(wt.path), { recursive: true });
    await gitOk(
      ["worktree", "add", "--quiet", "-b", wt.branch, wt.path, wt.baseSha],
      wt.repo,
      `cannot make a worktree at ${wt.path}`,
    );
    return wt;
  });
}

/**
 * Reopens an earlier runner's worktree at the same path (a resumed Claude session is found by its folder):
 * as it is when its folder is still there, else again from its branch, or from its base when the branch went
 * with it (removed because nothing was done).
 */
export async function reopenWorktree(w: Omit<Worktree, "cwd"> & { cwd?: string }): Promise<Worktree> {
  const cwd = w.cwd ?? w.path;
  if (exists(w.path)) {
    const top = await git(["rev-parse", "--show-toplevel"], w.path);
    if (top.code === 0) return { ...w, cwd: exists(cwd) ? cwd : w.path };
  }
  // Its branch was kept (work on it), or removed with it because nothing was done: then the same start again.
  const kept = await branchExists(w.repo, w.branch);
  const from = await git(["rev-parse", "--verify", "--quiet", `${w.baseSha}^{commit}`], w.repo);
  if (!kept && from.code !== 0) {
    throw new AppError(
      "conflict",
      `the worktree ${w.path}, its branch ${w.branch} and its base ${
        w.baseSha.slice(0, 12)
      } are gone: nothing to reopen`,
      { details: { reason: "worktree_gone" } },
    );
  }
  await withRepoLock(w.repo, async () => {
    await git(["worktree", "prune"], w.repo);
    await Deno.mkdir(parent(w.path), { recursive: true });
    await gitOk(
      ["worktree", "add", "--quiet", ...(kept ? [w.path, w.branch] : ["-b", w.branch, w.path, w.baseSha])],
      w.repo,
      `cannot reopen the worktree ${w.path}`,
    );
  });
  return { ...w, cwd: exists(cwd) ? cwd : w.path };
}

export async function branchExists(folder: string, branch: string): Promise<boolean> {
  const r = await git(["show-ref", "--verify", "--quiet", `refs/heads/${branch}`], folder);
  return r.code === 0;
}

/** The branch the status counts "behind" against: the base when it is a branch. */
async function baseBranchRef(folder: string, base: string | null): Promise<string | null> {
  if (!base) return null;
  return await branchExists(folder, base) ? `refs/heads/${base}` : null;
}

/**
 * Runs `fn` with GIT_INDEX_FILE pointing at a copy of the worktree's index with every change added
 * (untracked files included, ignored ones not): so one `diff --cached BASE` sees committed and uncommitted
 * work together, and the worktree's own index is never touched.
 */
async function withFullIndex<T>(path: string, fn: (env: Record<string, string>) => Promise<T>): Promise<T> {
  const indexPath = (await gitOk(
    ["rev-parse", "--path-format=absolute", "--git-path", "index"],
    path,
    `cannot read the worktree ${path}`,
  )).trim();
  const tmp = await Deno.makeTempFile({ prefix: "stratavore-index-" });
  try {
    try {
      await Deno.copyFile(indexPath, tmp);
      // Date the copy a little before the index: git trusts a file's cached stat only when the file is
      // older than the index ("racy git"); a copy dated now (or the index's time cut to milliseconds) would
      // hide an edit of the same size made in the same clock tick as the index was written.
      const st = await Deno.stat(indexPath);
      const before = new Date(Math.floor(st.mtime!.getTime() / 1000) * 1000 - 1000);
      await Deno.utime(tmp, before, before);
    } catch {
      await Deno.remove(tmp);
      await gitOk(["read-tree", "HEAD"], path, "cannot read HEAD", { GIT_INDEX_FILE: tmp });
    }
    const env = { GIT_INDEX_FILE: tmp };
    await gitOk(["add", "-A", "--", ":/"], path, `cannot read the changes in ${path}`, env);
    return await fn(env);
  } finally {
    await Deno.remove(tmp).catch(() => {});
  }
}

/** Lines added and deleted per file, from `--numstat -z` (renames: the new path). */
function parseNumstat(out: string): ChangedFile[] {
  const files: ChangedFile[] = [];
  const parts = out.split("\0");
  for (let i = 0; i < parts.length; i++) {
    const part = parts[i];
    if (!part) continue;
    const m = /^(-|\d+)\t(-|\d+)\t(.*)$/s.exec(part);
    if (!m) continue;
    let path = m[3];
    if (path === "") {
      // A rename: the old and new paths follow as their own fields.
      i += 2;
      path = parts[i] ?? "";
    }
    files.push({
      path,
      added: m[1] === "-" ? null : Number(m[1]),
      deleted: m[2] === "-" ? null : Number(m[2]),
    });
  }
  return files;
}

const MAX_LISTED = 500;

/** Branch, commits ahead/behind, changed files with +/−, and whether the worktree is dirty. */
export async function worktreeStatus(
  path: string,
  baseSha: string,
  base: string | null,
): Promise<WorktreeStatus> {
  const dirty = await isDirty(path);
  const ahead = Number(
    (await gitOk(["rev-list", "--count", `${baseSha}..HEAD`], path, `cannot count the commits in ${path}`))
      .trim(),
  );
  const baseRef = await baseBranchRef(path, base);
  const behind = baseRef
    ? Number(
      (await gitOk(["rev-list", "--count", `HEAD..${baseRef}`], path, "cannot compare with the base")).trim(),
    )
    : 0;
  const changed = dirty
    ? await withFullIndex(path, async (env) =>
      parseNumstat(
        await gitOk(["diff", "--cached", "--numstat", "-z", "-M", baseSha], path, "cannot diff", env),
      ))
    : parseNumstat(await gitOk(["diff", "--numstat", "-z", "-M", baseSha, "HEAD"], path, "cannot diff"));
  return {
    ahead,
    behind,
    dirty,
    files: changed.length,
    insertions: changed.reduce((n, f) => n + (f.added ?? 0), 0),
    deletions: changed.reduce((n, f) => n + (f.deleted ?? 0), 0),
    changed: changed.slice(0, MAX_LISTED),
    at: new Date().toISOString(),
  };
}

const STATUS_LETTER: Record<string, FileDiff["status"]> = {
  A: "added",
  D: "deleted",
  M: "modified",
  R: "renamed",
  C: "copied",
  T: "mode",
};

export interface DiffOptions {
  /** Only these paths (pathspecs, relative to the worktree's top). */
  paths?: string[];
  /** Leave the patches out (a --stat). */
  statOnly?: boolean;
  /** Cut the patches beyond this many bytes (whole files). */
  maxBytes?: number;
}

export interface DiffResult {
  files: FileDiff[];
  truncated: boolean;
}

/**
 * What the session changed against its base, file by file: in the worktree (committed and uncommitted,
 * untracked files included), or, when the worktree is gone, on its branch.
 */
export async function diffWorktree(
  path: string,
  baseSha: string,
  o: DiffOptions = {},
): Promise<DiffResult> {
  return await withFullIndex(path, (env) => diffWith(path, ["--cached", baseSha], env, o));
}

export async function diffBranch(repo: string, baseSha: string, branch: string, o: DiffOptions = {}) {
  return await diffWith(repo, [baseSha, `refs/heads/${branch}`], {}, o);
}

async function diffWith(
  cwd: string,
  revs: string[],
  env: Record<string, string>,
  o: DiffOptions,
): Promise<DiffResult> {
  const spec = ["--", ...(o.paths?.length ? o.paths : [])];
  const base = ["-c", "core.quotePath=false", "diff", "--no-color", "--no-ext-diff", "-M", ...revs];
  const names = (await gitOk([...base, "--name-status", "-z", ...spec], cwd, "cannot diff", env)).split("\0");
  const nums = parseNumstat(await gitOk([...base, "--numstat", "-z", ...spec], cwd, "cannot diff", env));
  const files: FileDiff[] = [];
  for (let i = 0; i < names.length;) {
    const code = names[i++];
    if (!code) continue;
    const letter = code[0];
    const two = letter === "R" || letter === "C";
    const from = two ? names[i++] : null;
    const path = names[i++];
    const n = nums[files.length];
    files.push({
      path,
      from,
      status: STATUS_LETTER[letter] ?? "modified",
      added: n?.added ?? null,
      deleted: n?.deleted ?? null,
      binary: n ? n.added === null : false,
      patch: "",
    });
  }
  if (o.statOnly || files.length === 0) return { files, truncated: false };
  const patch = await gitOk([...base, "--patch", ...spec], cwd, "cannot diff", env);
  const chunks = patch.split(/^(?=diff --git )/m).filter((c) => c.startsWith("diff --git "));
  const max = o.maxBytes ?? 4 * 1024 * 1024;
  let used = 0;
  let truncated = false;
  for (const [i, f] of files.entries()) {
    const chunk = chunks[i] ?? "";
    if (used + chunk.length > max) {
      truncated = true;
      files.length = i;
      break;
    }
    used += chunk.length;
    f.patch = chunk;
  }
  return { files, truncated };
}

export interface Disposal {
  removed: boolean;
  /** Why it was kept or removed, in a few words. */
  note: string;
  status: WorktreeStatus | null;
}

/**
 * At the end of a run: a worktree with neither new commits nor changes is removed with its branch (nothing
 * is lost); any other is kept for review.
 */
export async function disposeWorktree(w: Omit<Worktree, "cwd">): Promise<Disposal> {
  if (!exists(w.path)) return { removed: true, note: "its folder was already gone", status: null };
  const status = await worktreeStatus(w.path, w.baseSha, w.base);
  const head = (await gitOk(["rev-parse", "HEAD"], w.path, "cannot read HEAD")).trim();
  if (status.dirty || status.ahead > 0 || head !== w.baseSha) {
    const why = [
      status.ahead ? `${status.ahead} commit(s)` : "",
      status.dirty ? "uncommitted changes" : "",
    ].filter(Boolean).join(" and ") || "a moved branch";
    return { removed: false, note: `kept: ${why}`, status };
  }
  await removeWorktree(w.repo, w.path, w.branch, { force: false, deleteBranch: true });
  return { removed: true, note: "removed: no commits and no changes", status };
}

/**
 * Removes a worktree (its folder and git's record of it), and its branch when asked (the caller decides:
 * a branch with commits is the work). Without force a dirty worktree is refused.
 */
export async function removeWorktree(
  repo: string,
  path: string,
  branch: string,
  o: { force?: boolean; deleteBranch?: boolean },
): Promise<void> {
  await withRepoLock(repo, () => removeUnlocked(repo, path, branch, o));
}

async function removeUnlocked(
  repo: string,
  path: string,
  branch: string,
  o: { force?: boolean; deleteBranch?: boolean },
): Promise<void> {
  if (exists(path)) {
    const r = await git(["worktree", "remove", ...(o.force ? ["--force", "--force"] : []), path], repo);
    if (r.code !== 0) {
      const dirty = /modified or untracked|contains modified|is dirty/.test(r.stderr);
      throw new AppError(
        dirty ? "conflict" : "failed",
        dirty
          ? `${path} has uncommitted changes: commit them, or remove it anyway with --force`
          : `cannot remove ${path}: ${firstLine(r.stderr)}`,
        { details: { reason: dirty ? "dirty" : "git" } },
      );
    }
  } else {
    await git(["worktree", "prune"], repo);
  }
  if (o.deleteBranch && await branchExists(repo, branch)) {
    await gitOk(["branch", "-D", "--", branch], repo, `cannot delete branch ${branch}`);
  }
}

export function exists(path: string): boolean {
  try {
    Deno.statSync(path);
    return true;
  } catch {
    return false;
  }
}

function join(a: string, b: string): string {
  return `${a.replace(/[\\/]+$/, "")}/${b}`;
}

function parent(p: string): string {
  const i = p.replace(/[\\/]+$/, "").search(/[\\/][^\\/]*$/);
  return i > 0 ? p.slice(0, i) : p;
}

/** Where this machine keeps runners' worktrees: `worktrees` in the config, else $STRATAVORE_HOME/worktrees. */
export function worktreeRoot(config: { home: string; worktrees?: string }): string {
  return config.worktrees ?? homePath(config.home, "worktrees");
}

/** A runner's worktree folder: <root>/<project>/<name or runner id>. */
export function worktreePath(root: string, project: string, nameOrId: string | number): string {
  return join(join(root, project), String(nameOrId));
}

/** The branch a runner's worktree gets. */
export function worktreeBranch(project: string, nameOrId: string | number): string {
  return `stratavore/${project}/${nameOrId}`;
}
