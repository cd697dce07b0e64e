-- 009: a git worktree per runner. A project may give every launch a worktree of its own (worktree 'auto'),
-- or only launches that ask (--worktree, 'off'); a runner keeps what its worktree is (branch, base, folder,
-- machine), how it stands against its base (reported by its agent), and what became of it when it ended
-- (kept for review, or removed when nothing was done).

ALTER TABLE projects
  ADD COLUMN worktree text NOT NULL DEFAULT 'off' CHECK (worktree IN ('off', 'auto'));

-- { state: planned|active|kept|removed|reopened, name, branch, base, baseSha, path, repo, host, status, … }
ALTER TABLE runners ADD COLUMN worktree jsonb;

-- `stratavore worktrees`: the worktrees that are (or may still be) on disk.
CREATE INDEX runners_worktrees ON runners (id) WHERE worktree IS NOT NULL;
