/**
 * Subscription limits at work: the launch policy (allow, refuse with the reset time, or queue until the
 * reset) and the loop that starts queued launches and continues headless runs the limit cut off, in order,
 * staggered, with a per-day cap and an off switch (config limitResume). See docs/limits.md.
 */
import type { Queryable } from "../lib/db/types.ts";
import { AppError } from "../lib/errors.ts";
import { accountOf } from "../lib/claude/limits.ts";
import type { LaunchRequest, LaunchResponse, Runner } from "../lib/schemas/runner.ts";
import type { AccountRef, LimitWindowName } from "../lib/schemas/limits.ts";
import { type Loop, startLoop } from "./loop.ts";
import type { Services } from "./services.ts";
import { emit } from "./store/outbox.ts";
import { currentUtilization, isLimited, WINDOW_TEXT } from "./store/limits.ts";
import { ACTIVE_SQL, getRunner, launchRunner, transition } from "./store/runners.ts";

/** The account new launches on this daemon's machine run under: its Claude login, else its config folder. */
export function daemonAccount(env: Record<string, string>): Promise<AccountRef> {
  return accountOf(env, env.HOME ?? env.USERPROFILE ?? ".");
}

interface Blocking {
  window: LimitWindowName;
  percent: number;
  limited: boolean;
  resetsAt: Date | null;
  label: string;
}

/** The window that holds launches back now (refusing, or over the threshold), the one resetting last. */
export async function blockingWindow(
  q: Queryable,
  accountKey: string,
  thresholdPercent: number,
  now = Date.now(),
): Promise<Blocking | undefined> {
  const rows = await q.query<
    {
      window_name: LimitWindowName;
      utilization: number;
      resets_at: Date | null;
      status: string | null;
      label: string;
    }
  >("SELECT window_name, utilization, resets_at, status, label FROM limit_windows WHERE account_key = $1", [
    accountKey,
  ]);
  const held = rows.map((r) => ({
    window: r.window_name,
    percent: Math.round(currentUtilization(r, now) * 100),
    limited: isLimited(r, now),
    resetsAt: r.resets_at,
    label: r.label,
  })).filter((w) => w.limited || w.percent >= thresholdPercent);
  return held.sort((a, b) => (b.resetsAt?.getTime() ?? Infinity) - (a.resetsAt?.getTime() ?? Infinity))[0];
}

function hhmm(d: Date | null): string {
  return d ? `${d.toISOString().slice(0, 16).replace("T", " ")} UTC` : "an unknown time";
}

export function blockReason(b: Blocking, threshold: number): string {
  const what = b.limited
    ? `the ${WINDOW_TEXT[b.window]} usage limit of ${b.label} is reached`
    : `the ${WINDOW_TEXT[b.window]} window of ${b.label} is at ${b.percent}% (threshold ${threshold}%)`;
  return `${what}; it resets at ${hhmm(b.resetsAt)}`;
}

/** A launch held for the reset: the route records it in the queue and answers 202. */
export class LaunchQueued extends AppError {
  constructor(message: string, readonly account: string, readonly notBefore: Date | null) {
    super("limit_reached", message, {
      details: { queued: true, account, notBefore: notBefore?.toISOString() },
    });
  }
}

/**
 * Runs under the project's lock in the launch transaction: allow, refuse (429 limit_reached, the reset time
 * in the reason) or queue (detached launches only: a terminal launch cannot wait for hours, so it is refused).
 */
export async function admitUnderLimits(
  s: Services,
  tx: Queryable,
  project: { id: number; name: string },
  req: LaunchRequest,
): Promise<void> {
  const [p] = await tx.query<{ limit_policy: string | null }>(
    "SELECT limit_policy FROM projects WHERE id = $1",
    [project.id],
  );
  const policy = p?.limit_policy ?? s.config.limitPolicy;
  if (policy === "allow") return;
  const account = await daemonAccount(s.env);
  const b = await blockingWindow(tx, account.key, s.config.limitThreshold);
  if (!b) return;
  const reason = blockReason(b, s.config.limitThreshold);
  if (policy === "queue" && req.spawn) {
    throw new LaunchQueued(
      `launch queued: ${reason}; it starts by itself after the reset`,
      account.key,
      b.resetsAt,
    );
  }
  throw new AppError(
    "limit_reached",
    `launch refused: ${reason}${policy === "queue" ? " (only detached launches can be queued)" : ""}`,
    {
      details: {
        project: project.name,
        account: account.key,
        window: b.window,
        percent: b.percent,
        resetsAt: b.resetsAt?.toISOString() ?? null,
        policy,
      },
    },
  );
}

export interface QueuedLaunch {
  id: number;
  project: string;
  kind: "launch" | "resume";
  account: string;
  notBefore: string | null;
  reason: string;
}

/** Records a queued launch (its own transaction: the launch's was rolled back) and its event. */
export async function enqueueLaunch(s: Services, req: LaunchRequest, q: LaunchQueued): Promise<QueuedLaunch> {
  return await s.db.transaction(async (tx) => {
    const [row] = await tx.query<{ id: number }>(
      `INSERT INTO limit_queue (kind, project_id, account_key, request, not_before, reason)
       SELECT 'launch', id, $2, $3::jsonb, $4, $5 FROM projects WHERE name = $1 RETURNING id`,
      [req.project, q.account, req, q.notBefore, q.message],
    );
    const queued: QueuedLaunch = {
      id: row.id,
      project: req.project,
      kind: "launch",
      account: q.account,
      notBefore: q.notBefore?.toISOString() ?? null,
      reason: q.message,
    };
    await emit(tx, {
      type: "limits.launch_queued",
      entityId: row.id,
      project: req.project,
      payload: { ...queued },
    });
    return queued;
  });
}

export async function listQueue(
  q: Queryable,
): Promise<(QueuedLaunch & { status: string; runnerId: number | null })[]> {
  const rows = await q.query<{
    id: number;
    kind: "launch" | "resume";
    project: string;
    account_key: string;
    not_before: Date | null;
    reason: string | null;
    status: string;
    started_runner: number | null;
  }>(
    `SELECT q.id, q.kind, p.name AS project, q.account_key, q.not_before, q.reason, q.status, q.started_runner
     FROM limit_queue q JOIN projects p ON p.id = q.project_id
     WHERE q.status = 'waiting' OR q.created_at > now() - interval '1 day' ORDER BY q.id`,
  );
  return rows.map((r) => ({
    id: r.id,
    kind: r.kind,
    project: r.project,
    account: r.account_key,
    notBefore: r.not_before?.toISOString() ?? null,
    reason: r.reason ?? "",
    status: r.status,
    runnerId: r.started_runner,
  }));
}

export interface LimitLoopDeps {
  spawnAgent: (runner: Runner, token: string) => Promise<void>;
  admit: (tx: Queryable, project: { id: number; name: string }) => Promise<void>;
}

/**
 * Headless runs the limit cut off become resume entries (once per runner: a unique index), unless resuming
 * is off. They wait for the reset like queued launches.
 */
async function queueResumes(s: Services, tx: Queryable): Promise<number> {
  if (!s.config.limitResume) return 0;
  const rows = await tx.query<
    {
      id: number;
      project_id: number;
      session_id: string;
      limited_until: Date;
      limit_account: string | null;
      project: string;
      cwd: string;
      worktree: unknown;
    }
  >(
    `SELECT r.id, r.project_id, r.session_id, r.limited_until, r.limit_account, p.name AS project, r.cwd,
       r.worktree
     FROM runners r JOIN projects p ON p.id = r.project_id
     WHERE r.mode = 'headless' AND r.state IN ('stopped', 'failed') AND r.limited_until IS NOT NULL
       AND r.session_id IS NOT NULL AND r.ended_at > now() - interval '7 days'
       AND NOT EXISTS (SELECT 1 FROM limit_queue q WHERE q.kind = 'resume' AND q.runner_id = r.id)
     ORDER BY r.id LIMIT 100`,
  );
  for (const r of rows) {
    const request: LaunchRequest = {
      project: r.project,
      prompt: s.config.limitResumeMessage,
      args: ["--resume", r.session_id],
      spawn: true,
      // In the session's own folder: its git worktree reopened, if it had one (Claude Code finds a session
      // by the folder it ran in).
      ...(r.worktree ? { worktree: { reopen: r.id } } : { worktree: false as const, cwd: r.cwd }),
    };
    const [q] = await tx.query<{ id: number }>(
      `INSERT INTO limit_queue (kind, project_id, account_key, request, runner_id, session_id, not_before, reason)
       VALUES ('resume', $1, $2, $3::jsonb, $4, $5, $6, $7) ON CONFLICT DO NOTHING RETURNING id`,
      [
        r.project_id,
        r.limit_account ?? "",
        request,
        r.id,
        r.session_id,
        r.limited_until,
        `runner ${r.id} was stopped by the usage limit`,
      ],
    );
    if (q) {
      await emit(tx, {
        type: "limits.resume_queued",
        entityId: q.id,
        project: r.project,
        payload: {
          queueId: q.id,
          runnerId: r.id,
          sessionId: r.session_id,
          notBefore: r.limited_until.toISOString(),
        },
      });
    }
  }
  return rows.length;
}

interface QueueRow {
  id: number;
  kind: "launch" | "resume";
  project_id: number;
  account_key: string;
  request: LaunchRequest;
  runner_id: number | null;
  not_before: Date | null;
}

/**
 * One pass: queue new resumes, then start the first waiting entry whose reset has passed and whose account
 * no longer holds launches back, if the last start was at least `limitStagger` ago. One start per pass,
 * in queue order: a reset does not start everything at once.
 */
export async function limitPass(
  s: Services,
  deps: LimitLoopDeps,
  now = Date.now(),
): Promise<number | undefined> {
  await s.db.transaction((tx) => queueResumes(s, tx));
  const [last] = await s.db.query<{ at: Date | null }>(
    "SELECT max(started_at) AS at FROM limit_queue WHERE status = 'started'",
  );
  if (last?.at && now - last.at.getTime() < s.config.limitStagger) return undefined;
  const waiting = await s.db.query<QueueRow>(
    `SELECT id, kind, project_id, account_key, request, runner_id, not_before FROM limit_queue
     WHERE status = 'waiting' AND (not_before IS NULL OR not_before <= $1) ORDER BY id LIMIT 50`,
    [new Date(now)],
  );
  for (const e of waiting) {
    if (e.kind === "resume" && !s.config.limitResume) {
      await settle(s, e, "cancelled", "resuming after a usage limit is off (STRATAVORE_LIMIT_RESUME)");
      continue;
    }
    if (
      e.account_key &&
      await blockingWindow(s.db, e.account_key, e.kind === "resume" ? 100 : s.config.limitThreshold, now)
    ) {
      continue; // still held back (a new report says the window is full again)
    }
    if (e.kind === "resume") {
      const [{ n }] = await s.db.query<{ n: number }>(
        `SELECT count(*)::int AS n FROM limit_queue
         WHERE kind = 'resume' AND status = 'started' AND started_at >= date_trunc('day', now() AT TIME ZONE 'UTC') AT TIME ZONE 'UTC'`,
      );
      if (n >= s.config.limitResumePerDay) {
        await settle(s, e, "skipped", `the daily cap of ${s.config.limitResumePerDay} resumes is reached`);
        continue;
      }
    }
    return await start(s, deps, e, now);
  }
  return undefined;
}

async function settle(s: Services, e: QueueRow, status: string, reason: string): Promise<void> {
  await s.db.transaction(async (tx) => {
    await tx.query("UPDATE limit_queue SET status = $2, reason = $3 WHERE id = $1 AND status = 'waiting'", [
      e.id,
      status,
      reason,
    ]);
    await emit(tx, {
      type: `limits.${e.kind}_${status}`,
      entityId: e.id,
      project: e.request.project,
      payload: { queueId: e.id, kind: e.kind, runnerId: e.runner_id, reason },
    });
  });
}

async function start(
  s: Services,
  deps: LimitLoopDeps,
  e: QueueRow,
  now: number,
): Promise<number | undefined> {
  let launched: LaunchResponse;
  try {
    launched = await s.db.transaction(async (tx) => {
      // Claimed in the launch's transaction: two daemons never start one entry twice.
      const [claimed] = await tx.query<{ id: number }>(
        "SELECT id FROM limit_queue WHERE id = $1 AND status = 'waiting' FOR UPDATE SKIP LOCKED",
        [e.id],
      );
      if (!claimed) throw new AppError("conflict", "taken by another daemon");
      const l = await launchRunner(tx, e.request, { host: s.host, daemonId: s.daemonId, admit: deps.admit });
      if (e.kind === "resume") {
        await tx.query("UPDATE runners SET resumed_from = $2 WHERE id = $1", [l.runner.id, e.runner_id]);
      }
      await tx.query(
        "UPDATE limit_queue SET status = 'started', started_at = $3, started_runner = $2 WHERE id = $1",
        [e.id, l.runner.id, new Date(now)],
      );
      const runner = await getRunner(tx, l.runner.id);
      await emit(tx, {
        type: `limits.${e.kind}_started`,
        entityId: e.id,
        project: runner.project,
        payload: { queueId: e.id, kind: e.kind, runner, resumedFrom: e.runner_id },
      });
      return { runner, token: l.token };
    });
  } catch (e2) {
    const code = (e2 as AppError).code;
    // Full quota or budget: it waits for room, like any launch would.
    if (code === "quota_exceeded" || code === "budget_exceeded" || code === "conflict") return undefined;
    await settle(s, e, "failed", (e2 as Error).message);
    return undefined;
  }
  try {
    await deps.spawnAgent(launched.runner, launched.token);
  } catch (err) {
    const reason = `could not start the agent: ${(err as Error).message}`;
    await s.db.transaction((tx) => transition(tx, launched.runner.id, "failed", { reason }));
  }
  s.log.info(e.kind === "resume" ? "continued a run stopped by the usage limit" : "started a queued launch", {
    queue: e.id,
    runner: launched.runner.id,
    resumedFrom: e.runner_id ?? undefined,
  });
  return launched.runner.id;
}

/** Something for the loop to do: an entry waiting, or a limited run still active (it may end and be resumed). */
async function limitWork(s: Services): Promise<boolean> {
  const [r] = await s.db.query<{ busy: boolean }>(
    `SELECT EXISTS (SELECT 1 FROM limit_queue WHERE status = 'waiting')
         OR EXISTS (SELECT 1 FROM runners WHERE limited_until IS NOT NULL AND state IN ${ACTIVE_SQL}) AS busy`,
  );
  return r.busy;
}

export interface LimitLoop extends Loop {
  /** Something may have changed (a runner was limited, a launch queued): pass at once and keep passing. */
  arm(): void;
}

/**
 * Checks the queue every couple of seconds while there is work; otherwise it stays quiet until arm() (the
 * daemon arms it on runner.limited and limits.* events, from any daemon) or its one-minute backstop, so a
 * daemon at rest does not query for it (bench/footprint.ts).
 */
export function startLimitLoop(s: Services, deps: LimitLoopDeps): LimitLoop {
  let busy = true;
  let armed = false;
  let backstopAt = 0;
  const loop = startLoop(
    "limits",
    2000,
    async () => {
      const now = Date.now();
      if (!busy && !armed && now < backstopAt) return;
      backstopAt = now + 60_000;
      armed = false; // an arm() during the pass runs another one
      await limitPass(s, deps);
      busy = await limitWork(s);
    },
    s.log.child({ component: "limits" }),
    { jitter: 0.2 },
  );
  return {
    ...loop,
    arm() {
      armed = true;
      loop.kick();
    },
  };
}
