/** Runners: launch under the project's advisory lock, checked transitions, and the row → API mapping. */
import type { Queryable } from "../../lib/db/types.ts";
import { planCommandLine } from "../../lib/command_line.ts";
import { AppError } from "../../lib/errors.ts";
import type { LaunchRequest, Runner, RunnerState, StartedRequest } from "../../lib/schemas/runner.ts";
import { costSummaryOf } from "../../lib/cost.ts";
import type { WorktreeInfo, WorktreeRequest } from "../../lib/schemas/worktree.ts";
import { worktreeBranch } from "../../lib/worktree.ts";
import { ACTIVE_SQL, canTransition, EVENT_FOR } from "../../lib/runner_states.ts";
import { tellAgent } from "./agent_notices.ts";
import { emit } from "./outbox.ts";
import { newAgentToken } from "./tokens.ts";
import type { TokenCostColumns } from "./usage.ts";

export { ACTIVE_SQL };

export interface RunnerRow extends TokenCostColumns {
  id: number;
  project: string;
  project_id: number;
  state: RunnerState;
  activity: Runner["activity"];
  activity_detail: string | null;
  activity_at: Date | null;
  mode: Runner["mode"];
  command: string;
  args: string[];
  cwd: string;
  labels: Record<string, string>;
  prompt: string | null;
  host: string | null;
  pid: number | null;
  exit_code: number | null;
  exit_signal: string | null;
  reason: string | null;
  stop_requested_at: Date | null;
  session_id: string | null;
  created_at: Date;
  started_at: Date | null;
  ended_at: Date | null;
  last_heartbeat_at: Date | null;
  heartbeat_count: number;
  log_path: string | null;
  cpu_percent: number | null;
  rss_bytes: number | null;
  telemetry: Runner["telemetry"];
  telemetry_endpoint: string | null;
  limited_until: Date | null;
  limited_window: string | null;
  auto_continue: boolean | null;
  resumed_from: number | null;
  worktree: WorktreeInfo | null;
}

export const RUNNER_SELECT =
  "SELECT r.*, p.name AS project FROM runners r JOIN projects p ON p.id = r.project_id";

const iso = (d: Date | null) => (d ? d.toISOString() : null);

export function toRunner(r: RunnerRow): Runner {
  return {
    id: r.id,
    project: r.project,
    projectId: r.project_id,
    state: r.state,
    activity: r.activity,
    activityDetail: r.activity_detail,
    activityAt: iso(r.activity_at),
    mode: r.mode,
    command: r.command,
    args: r.args,
    cwd: r.cwd,
    labels: r.labels,
    prompt: r.prompt,
    host: r.host,
    pid: r.pid,
    exitCode: r.exit_code,
    exitSignal: r.exit_signal,
    reason: r.reason,
    stopRequested: r.stop_requested_at !== null,
    sessionId: r.session_id,
    createdAt: r.created_at.toISOString(),
    startedAt: iso(r.started_at),
    endedAt: iso(r.ended_at),
    lastHeartbeatAt: iso(r.last_heartbeat_at),
    heartbeatCount: r.heartbeat_count,
    logPath: r.log_path,
    cpuPercent: r.cpu_percent,
    rssBytes: r.rss_bytes,
    tokens: {
      input: r.tokens_input,
      output: r.tokens_output,
      cacheCreation: r.tokens_cache_creation,
      cacheRead: r.tokens_cache_read,
    },
    cost: costSummaryOf(r.cost_usd, r.cost_reported_usd, r.unpriced_tokens),
    telemetry: r.telemetry,
    telemetryEndpoint: r.telemetry_endpoint,
    limitedUntil: iso(r.limited_until ?? null),
    limitedWindow: r.limited_window ?? null,
    autoContinue: r.auto_continue ?? null,
    resumedFrom: r.resumed_from ?? null,
    worktree: r.worktree ?? null,
  };
}

export function runnerNotFound(id: number): AppError {
  return new AppError("not_found", `no runner ${id}: list them with "stratavore runners --all"`);
}

export async function getRunner(q: Queryable, id: number, forUpdate = false): Promise<Runner> {
  const [row] = await q.query<RunnerRow>(
    `${RUNNER_SELECT} WHERE r.id = $1${forUpdate ? " FOR UPDATE OF r" : ""}`,
    [
      id,
    ],
  );
  if (!row) throw runnerNotFound(id);
  return toRunner(row);
}

export interface RunnerFilter {
  project?: string;
  state?: RunnerState;
  /** Include ended runners (default: active only, unless a state is asked for). */
  all?: boolean;
  limit?: number;
}

export async function listRunners(q: Queryable, f: RunnerFilter = {}): Promise<Runner[]> {
  const where: string[] = [];
  const params: unknown[] = [];
  if (f.project) {
    params.push(f.project);
    where.push(`p.name = $${params.length}`);
  }
  if (f.state) {
    params.push(f.state);
    where.push(`r.state = $${params.length}`);
  } else if (!f.all) {
    where.push(`r.state IN ${ACTIVE_SQL}`);
  }
  params.push(f.limit ?? 1000);
  const rows = await q.query<RunnerRow>(
    `${RUNNER_SELECT}${
      where.length ? " WHERE " + where.join(" AND ") : ""
    } ORDER BY r.id DESC LIMIT $${params.length}`,
    params,
  );
  return rows.map(toRunner);
}

export interface LaunchContext {
  host?: string | null;
  daemonId?: string;
  /** Checks run under the project lock after the quota (budgets add theirs here). */
  admit?: (tx: Queryable, project: { id: number; name: string }, req: LaunchRequest) => Promise<void>;
}

interface LaunchProject {
  id: number;
  name: string;
  path: string;
  max_runners: number;
  command: string;
  command_args: string[];
  worktree: "off" | "auto";
}

/**
 * One transaction: lock the project (advisory, per project) → count its active runners against the quota
 * → admit (budgets) → insert the runner and its token hash → outbox row. N concurrent launches against
 * quota Q admit exactly Q because every launch for a project waits for the lock.
 */
export async function launchRunner(
  tx: Queryable,
  req: LaunchRequest,
  ctx: LaunchContext = {},
): Promise<{ runner: Runner; token: string }> {
  const [p] = await tx.query<LaunchProject>(
    "SELECT id, name, path, max_runners, command, command_args, worktree FROM projects WHERE name = $1",
    [req.project],
  );
  if (!p) {
    throw new AppError(
      "not_found",
      `no project named "${req.project}": create it with "stratavore new ${req.project}"`,
    );
  }
  await tx.query("SELECT pg_advisory_xact_lock(hashtext($1)::bigint)", [`stratavore:project:${p.id}`]);
  const [{ n: active }] = await tx.query<{ n: number }>(
    `SELECT count(*)::int AS n FROM runners WHERE project_id = $1 AND state IN ${ACTIVE_SQL}`,
    [p.id],
  );
  if (active >= p.max_runners) {
    const ids = (await tx.query<{ id: number }>(
      `SELECT id FROM runners WHERE project_id = $1 AND state IN ${ACTIVE_SQL} ORDER BY id LIMIT 20`,
      [p.id],
    )).map((r) => r.id);
    const message = p.max_runners === 0
      ? `project "${p.name}" accepts no new runners (its quota is 0): raise it with "stratavore project set ${p.name} --max-runners N"`
      : `project "${p.name}" is at its quota of ${p.max_runners} active runner(s) (active: ${ids.join(", ")}${
        active > ids.length ? ", …" : ""
      }): stop one, or raise the quota with "stratavore project set ${p.name} --max-runners N"`;
    throw new AppError("quota_exceeded", message, {
      details: { project: p.name, quota: p.max_runners, activeRunners: ids },
    });
  }
  await ctx.admit?.(tx, p, req);
  const line = planCommandLine({ command: p.command, commandArgs: p.command_args, path: p.path }, req);
  const mode = req.mode ?? (req.prompt !== undefined ? "headless" : "interactive");
  const [{ id }] = await tx.query<{ id: number }>(
    `INSERT INTO runners (project_id, mode, command, args, cwd, labels, prompt, host, daemon_id)
     VALUES ($1, $2, $3, $4::jsonb, $5, $6::jsonb, $7, $8, $9) RETURNING id`,
    [
      p.id,
      mode,
      line.command,
      line.args,
      line.cwd,
      req.labels ?? {},
      req.prompt ?? null,
      ctx.host ?? null,
      ctx.daemonId ?? null,
    ],
  );
  const wanted = req.worktree === false
    ? undefined
    : req.worktree ?? (p.worktree === "auto" ? {} : undefined);
  if (wanted) {
    await tx.query("UPDATE runners SET worktree = $2::jsonb WHERE id = $1", [
      id,
      await planWorktree(tx, p, id, wanted),
    ]);
  }
  const token = newAgentToken();
  await tx.query("INSERT INTO agent_tokens (runner_id, token_sha256) VALUES ($1, $2)", [id, token.sha256]);
  const runner = await getRunner(tx, id);
  await emit(tx, { type: EVENT_FOR.starting, entityId: id, project: p.name, payload: { runner } });
  return { runner, token: token.token };
}

/**
 * The worktree a launch asks for, planned (made by the agent on the runner's machine): a new branch
 * `stratavore/<project>/<name or runner id>`, or an earlier runner's worktree reopened (resume). Under the
 * project's lock, so two launches never plan the same branch.
 */
async function planWorktree(
  tx: Queryable,
  p: LaunchProject,
  id: number,
  want: Exclude<WorktreeRequest, false>,
): Promise<WorktreeInfo> {
  if (want.reopen !== undefined) {
    const [old] = await tx.query<{ worktree: WorktreeInfo | null; project_id: number }>(
      "SELECT worktree, project_id FROM runners WHERE id = $1",
      [want.reopen],
    );
    if (!old?.worktree?.baseSha || old.project_id !== p.id) {
      throw new AppError(
        "bad_request",
        `runner ${want.reopen} of project ${p.name} has no worktree to reopen`,
      );
    }
    // A removed one can be made again from its branch, if that was kept (the agent tries).
    if (old.worktree.state === "reopened") {
      throw new AppError(
        "conflict",
        `runner ${want.reopen}'s worktree was reopened by a later runner: resume from that one`,
      );
    }
    return { ...old.worktree, state: "planned", reopen: want.reopen, note: null };
  }
  const branch = worktreeBranch(p.name, want.name ?? id);
  const [taken] = await tx.query<{ id: number }>(
    `SELECT id FROM runners WHERE project_id = $1 AND worktree->>'branch' = $2
       AND worktree->>'state' IN ('planned', 'active', 'kept') LIMIT 1`,
    [p.id, branch],
  );
  if (taken) {
    throw new AppError(
      "conflict",
      `branch ${branch} belongs to runner ${taken.id}'s worktree: pick another name, or remove it with "stratavore worktrees rm ${taken.id}"`,
      { details: { reason: "branch_exists", branch, runner: taken.id } },
    );
  }
  return {
    state: "planned",
    name: want.name ?? null,
    branch,
    base: want.base ?? null,
    baseSha: null,
    path: null,
    repo: null,
    host: null,
    requireCleanBase: want.requireCleanBase ?? false,
    status: null,
  };
}

export interface TransitionPatch {
  reason?: string | null;
  pid?: number | null;
  host?: string | null;
  sessionId?: string | null;
  exitCode?: number | null;
  exitSignal?: string | null;
}

/**
 * Moves a runner to `to` if the lifecycle allows it (row locked, so transitions of one runner are serial
 * and their events are committed in order), writes the event, and returns the updated runner.
 */
export async function transition(
  tx: Queryable,
  id: number,
  to: RunnerState,
  patch: TransitionPatch = {},
  extra: Record<string, unknown> = {},
): Promise<Runner> {
  const current = await getRunner(tx, id, true);
  if (!canTransition(current.state, to)) {
    throw new AppError(
      "invalid_transition",
      `runner ${id} is ${current.state} and cannot become ${to}`,
      { details: { from: current.state, to } },
    );
  }
  const ended = to === "stopped" || to === "failed" || to === "killed";
  await tx.query(
    `UPDATE runners SET
       state = $2,
       reason = coalesce($3, reason),
       pid = coalesce($4, pid),
       host = coalesce($5, host),
       session_id = coalesce($6, session_id),
       exit_code = coalesce($7, exit_code),
       exit_signal = coalesce($8, exit_signal),
       started_at = CASE WHEN $2 = 'running' THEN coalesce(started_at, now()) ELSE started_at END,
       stop_requested_at = CASE WHEN $2 = 'stopping' THEN coalesce(stop_requested_at, now()) ELSE stop_requested_at END,
       ended_at = CASE WHEN $9 THEN now() ELSE ended_at END,
       activity = CASE WHEN $9 THEN NULL ELSE activity END,
       activity_detail = CASE WHEN $9 THEN NULL ELSE activity_detail END,
       last_heartbeat_at = CASE WHEN $2 = 'running' THEN coalesce(last_heartbeat_at, now()) ELSE last_heartbeat_at END,
       updated_at = now()
     WHERE id = $1`,
    [
      id,
      to,
      patch.reason ?? null,
      patch.pid ?? null,
      patch.host ?? null,
      patch.sessionId ?? null,
      patch.exitCode ?? null,
      patch.exitSignal ?? null,
      ended,
    ],
  );
  const runner = await getRunner(tx, id);
  // The agent hears of a stop or a kill at commit, over its link, whichever daemon holds that link.
  if (to === "stopping") await tellAgent(tx, id, { t: "stop", reason: runner.reason });
  if (to === "killed") await tellAgent(tx, id, { t: "kill", reason: runner.reason });
  await emit(tx, {
    type: EVENT_FOR[to],
    entityId: id,
    project: runner.project,
    payload: { runner, ...extra },
  });
  return runner;
}

/**
 * Runners whose last sign of life (heartbeat, else creation) is older than the TTL become failed, each with
 * its event, in one transaction.
 */
export async function markStale(tx: Queryable, ttlMs: number): Promise<Runner[]> {
  const stale = await tx.query<{ id: number; last: Date }>(
    `SELECT id, coalesce(last_heartbeat_at, created_at) AS last FROM runners
     WHERE state IN ${ACTIVE_SQL} AND mode <> 'observed'
       AND coalesce(last_heartbeat_at, created_at) < now() - ($1 * interval '1 millisecond')
     ORDER BY id FOR UPDATE SKIP LOCKED`,
    [ttlMs],
  );
  const out: Runner[] = [];
  for (const s of stale) {
    const reason = `no heartbeat for over ${
      Math.round(ttlMs / 1000)
    }s (last sign of life ${s.last.toISOString()})`;
    out.push(await transition(tx, s.id, "failed", { reason }, { stale: true }));
  }
  return out;
}

/** The command line as the agent started it (what it added: Claude's --session-id and --settings). */
export async function recordCommand(
  tx: Queryable,
  id: number,
  command: string,
  args: string[],
): Promise<void> {
  await tx.query("UPDATE runners SET command = $2, args = $3::jsonb WHERE id = $1", [id, command, args]);
}

/** A retried start report: the process, the state kept. */
export async function recordProcess(tx: Queryable, id: number, pid: number, host: string): Promise<void> {
  await tx.query("UPDATE runners SET pid = $2, host = $3, updated_at = now() WHERE id = $1", [id, pid, host]);
}

/** How the session reports itself: auto-continue, and its telemetry mode and endpoint. */
export async function recordTelemetryMode(
  tx: Queryable,
  id: number,
  r: Pick<StartedRequest, "autoContinue" | "telemetry" | "telemetryEndpoint">,
): Promise<void> {
  if (r.autoContinue !== undefined) {
    await tx.query("UPDATE runners SET auto_continue = $2 WHERE id = $1", [id, r.autoContinue]);
  }
  if (!r.telemetry) return;
  await tx.query("UPDATE runners SET telemetry = $2, telemetry_endpoint = $3 WHERE id = $1", [
    id,
    r.telemetry,
    r.telemetryEndpoint ?? null,
  ]);
}

/** An ended runner's exit as its agent reports it; a code or signal known already is kept. */
export async function recordLateExit(
  tx: Queryable,
  id: number,
  exitCode: number | null,
  signal: string | null,
): Promise<void> {
  await tx.query(
    "UPDATE runners SET exit_code = coalesce(exit_code, $2), exit_signal = coalesce(exit_signal, $3) WHERE id = $1",
    [id, exitCode, signal],
  );
}

/** The id of the active observed runner of a session, if its hooks made one. */
export async function activeObservedRunner(q: Queryable, sessionId: string): Promise<number | undefined> {
  const [r] = await q.query<{ id: number }>(
    `SELECT id FROM runners WHERE mode = 'observed' AND session_id = $1 AND state IN ${ACTIVE_SQL}
     ORDER BY id DESC LIMIT 1`,
    [sessionId],
  );
  return r?.id;
}

/** The observed runners of these sessions, by session id. */
export async function observedRunnersOf(q: Queryable, sessionIds: string[]): Promise<Map<string, number>> {
  if (sessionIds.length === 0) return new Map();
  const rows = await q.query<{ id: number; session_id: string }>(
    `SELECT id, session_id FROM runners WHERE mode = 'observed' AND session_id = ANY($1::text[])`,
    [sessionIds],
  );
  return new Map(rows.map((r) => [r.session_id, r.id]));
}

/** What a runner's hooks need to know of it and its project. */
export interface HookFacts {
  id: number;
  project: string;
  projectId: number;
  cwd: string;
  approvals: "off" | "notify" | "remote";
  timeoutSeconds: number;
}

export async function hookFacts(q: Queryable, runnerId: number): Promise<HookFacts | undefined> {
  const [r] = await q.query<
    { project: string; project_id: number; cwd: string; approvals: HookFacts["approvals"]; timeout: number }
  >(
    `SELECT p.name AS project, r.project_id, r.cwd, p.approvals, p.approval_timeout_seconds AS timeout
     FROM runners r JOIN projects p ON p.id = r.project_id WHERE r.id = $1`,
    [runnerId],
  );
  return r && {
    id: runnerId,
    project: r.project,
    projectId: r.project_id,
    cwd: r.cwd,
    approvals: r.approvals,
    timeoutSeconds: r.timeout,
  };
}

/** Runner counts by state and the number of projects (the status summary). */
export async function fleetCounts(
  q: Queryable,
): Promise<{ byState: { state: RunnerState; n: number }[]; projects: number }> {
  const byState = await q.query<{ state: RunnerState; n: number }>(
    "SELECT state, count(*)::int AS n FROM runners GROUP BY state",
  );
  const [{ n: projects }] = await q.query<{ n: number }>("SELECT count(*)::int AS n FROM projects");
  return { byState, projects };
}
