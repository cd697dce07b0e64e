/**
 * What the database-backed metrics read at scrape time: a handful of cheap aggregate queries, run once per
 * scrape (concurrent scrapes share one reading). Being read from the database, these numbers are right
 * after a restart and the same on every daemon sharing the database.
 */
import { listLimits } from "../store/limits.ts";
import type { LimitAccount } from "../../lib/schemas/limits.ts";
import type { Db } from "../../lib/db/types.ts";
import { RUNNER_STATES, type RunnerState } from "../../lib/schemas/runner.ts";
import { ACTIVE_SQL } from "../store/runners.ts";

/**
 * Per-project series are kept for this many projects (the oldest ones, by creation); the rest are summed
 * under project="_other", so a runaway number of projects cannot blow up the series count.
 */
export const MAX_PROJECT_SERIES = 100;
export const OTHER_PROJECTS = "_other";

export interface Tokens {
  input: number;
  output: number;
  cacheCreation: number;
  cacheRead: number;
  costUsd: number;
  reportedUsd: number;
}

export interface Snapshot {
  runners: Record<RunnerState, number>;
  /** Active runners per project label. */
  activeByProject: Map<string, number>;
  sessions: number;
  tokensGlobal: Tokens;
  tokensByProject: Map<string, Tokens>;
  outboxPending: number;
  outboxDead: number;
  outboxOldestPendingSeconds: number;
  notifications: { sent: number; failed: number; pending: number };
  usageDisagreements: number;
  /** Subscription windows per account (latest figures; a window past its reset reads 0). */
  limits: LimitAccount[];
  /** Entries waiting for a reset, by kind (launch, resume). */
  limitQueue: Record<"launch" | "resume", number>;
}

const zeroTokens = (): Tokens => ({
  input: 0,
  output: 0,
  cacheCreation: 0,
  cacheRead: 0,
  costUsd: 0,
  reportedUsd: 0,
});

function add(into: Tokens, t: Tokens): void {
  into.input += t.input;
  into.output += t.output;
  into.cacheCreation += t.cacheCreation;
  into.cacheRead += t.cacheRead;
  into.costUsd += t.costUsd;
  into.reportedUsd += t.reportedUsd;
}

export async function readSnapshot(db: Db): Promise<Snapshot> {
  const states = await db.query<{ state: RunnerState; n: number }>(
    "SELECT state, count(*)::int AS n FROM runners GROUP BY state",
  );
  const projects = await db.query<{ name: string; active: number } & Tokens>(
    `SELECT p.name,
       (SELECT count(*) FROM runners r WHERE r.project_id = p.id AND r.state IN ${ACTIVE_SQL})::int AS active,
       coalesce(t.input, 0)::float8 AS input, coalesce(t.output, 0)::float8 AS output,
       coalesce(t.cc, 0)::float8 AS "cacheCreation", coalesce(t.cr, 0)::float8 AS "cacheRead",
       coalesce(t.cost, 0)::float8 AS "costUsd", coalesce(t.reported, 0)::float8 AS "reportedUsd"
     FROM projects p LEFT JOIN (
       SELECT project_id, sum(input_tokens) AS input, sum(output_tokens) AS output,
              sum(cache_creation_tokens) AS cc, sum(cache_read_tokens) AS cr, sum(cost_usd) AS cost,
              sum(reported_cost_usd) AS reported
       FROM token_usage GROUP BY project_id) t ON t.project_id = p.id
     ORDER BY p.id`,
  );
  const [counts] = await db.query<
    {
      sessions: number;
      pending: number;
      dead: number;
      oldest: number | null;
      sent: number;
      failed: number;
      waiting: number;
      disagreements: number;
    }
  >(
    `SELECT (SELECT count(*) FROM sessions)::int AS sessions,
       (SELECT count(*) FROM outbox WHERE published_at IS NULL AND dead_at IS NULL)::int AS pending,
       (SELECT count(*) FROM outbox WHERE dead_at IS NOT NULL)::int AS dead,
       (SELECT extract(epoch FROM now() - created_at)::float8 FROM outbox
          WHERE published_at IS NULL AND dead_at IS NULL ORDER BY id LIMIT 1) AS oldest,
       (SELECT count(*) FROM notifications WHERE sent_at IS NOT NULL)::int AS sent,
       (SELECT count(*) FROM notifications WHERE failed_at IS NOT NULL)::int AS failed,
       (SELECT count(*) FROM notifications WHERE sent_at IS NULL AND failed_at IS NULL)::int AS waiting,
       (SELECT count(DISTINCT u.session_id) FROM runner_usage u JOIN runners r ON r.id = u.runner_id
          WHERE r.state NOT IN ${ACTIVE_SQL} AND u.reported_input_tokens IS NOT NULL
            AND (u.reported_input_tokens, u.reported_output_tokens, u.reported_cache_read_tokens,
                 u.reported_cache_creation_tokens)
                IS DISTINCT FROM (u.input_tokens, u.output_tokens, u.cache_read_tokens, u.cache_creation_tokens)
       )::int AS disagreements`,
  );

  const limits = await listLimits(db);
  const limitQueue = { launch: 0, resume: 0 };
  for (
    const r of await db.query<{ kind: "launch" | "resume"; n: number }>(
      "SELECT kind, count(*)::int AS n FROM limit_queue WHERE status = 'waiting' GROUP BY kind",
    )
  ) limitQueue[r.kind] = r.n;

  const runners = Object.fromEntries(RUNNER_STATES.map((s) => [s, 0])) as Record<RunnerState, number>;
  for (const r of states) runners[r.state] = r.n;
  const activeByProject = new Map<string, number>();
  const tokensByProject = new Map<string, Tokens>();
  const tokensGlobal = zeroTokens();
  for (const [i, p] of projects.entries()) {
    const label = i < MAX_PROJECT_SERIES ? p.name : OTHER_PROJECTS;
    activeByProject.set(label, (activeByProject.get(label) ?? 0) + p.active);
    if (!tokensByProject.has(label)) tokensByProject.set(label, zeroTokens());
    add(tokensByProject.get(label)!, p);
    add(tokensGlobal, p);
  }
  return {
    runners,
    activeByProject,
    sessions: counts.sessions,
    tokensGlobal,
    tokensByProject,
    outboxPending: counts.pending,
    outboxDead: counts.dead,
    outboxOldestPendingSeconds: Math.max(0, counts.oldest ?? 0),
    notifications: { sent: counts.sent, failed: counts.failed, pending: counts.waiting },
    usageDisagreements: counts.disagreements,
    limits,
    limitQueue,
  };
}
