/**
 * Token usage and cost. Two sources report cumulative totals per (runner, session, model), and the daemon
 * books only what changed, so a retried or repeated report never counts twice:
 * - the agent's transcript counts (tokens: what ccusage counts too), priced with the built-in table;
 * - Claude Code's own figures (telemetry counters, a headless run's result event): its cost.
 * The cost booked for a series is Claude Code's own as soon as it reported one, else the table's estimate
 * (a report arriving later replaces it: the difference is booked). Telemetry is exported more often than
 * the agent reads transcripts, so in practice a series' first report comes before its first estimate.
 * Every change is booked on today's token_usage row, the session and the runner.
 */
import { AppError } from "../../lib/errors.ts";
import type { Queryable } from "../../lib/db/types.ts";
import type { UsageTotal } from "../../lib/schemas/runner.ts";
import type { USAGE_GROUPS } from "../../lib/schemas/session.ts";
import { costOf, type PriceOverrides } from "../../lib/claude/pricing.ts";
import type { ReportedPoint, ReportKind } from "../../lib/claude/telemetry_usage.ts";
import { tokenTotal } from "../../lib/tokens.ts";
import { isActive } from "../../lib/runner_states.ts";

export interface UsageDelta {
  runnerId: number;
  projectId: number;
  sessionId: string;
  model: string;
  input: number;
  output: number;
  cacheCreation: number;
  cacheCreation1h: number;
  cacheRead: number;
  messages: number;
  /** The change of the booked cost (may be negative when a report replaces an estimate). */
  costUsd: number;
}

/** The token and cost columns runners and sessions both carry, as read. */
export interface TokenCostColumns {
  tokens_input: number;
  tokens_output: number;
  tokens_cache_creation: number;
  tokens_cache_read: number;
  cost_usd: number;
  cost_reported_usd: number;
  unpriced_tokens: number;
}

interface UsageRow {
  input_tokens: number;
  output_tokens: number;
  cache_creation_tokens: number;
  cache_creation_1h_tokens: number;
  cache_read_tokens: number;
  messages: number;
}

interface RunnerFacts {
  id: number;
  projectId: number;
  cwd: string;
}

async function runnerFacts(tx: Queryable, runnerId: number): Promise<RunnerFacts | undefined> {
  const [r] = await tx.query<{ project_id: number; cwd: string }>(
    "SELECT project_id, cwd FROM runners WHERE id = $1",
    [runnerId],
  );
  return r && { id: runnerId, projectId: r.project_id, cwd: r.cwd };
}

/** Makes sure a session row exists and points at this runner (on start, hooks and usage). */
/**
 * Why a runner may not book to or take over a session, or undefined when it may. A runner's token is in
 * its session's hands (prompt injection can steer it), so a runner may create a new session in its own
 * project, keep its own, and continue (resume) one of its project whose runner has ended: never a session
 * of another project, nor one that another live runner holds.
 */
export async function sessionClaimProblem(
  tx: Queryable,
  sessionId: string,
  runner: { id: number; projectId: number },
): Promise<string | undefined> {
  const [row] = await tx.query<{ project_id: number; runner_id: number | null; owner_state: string | null }>(
    `SELECT s.project_id, s.runner_id, o.state AS owner_state
     FROM sessions s LEFT JOIN runners o ON o.id = s.runner_id WHERE s.id = $1`,
    [sessionId],
  );
  if (!row || row.runner_id === runner.id) return undefined;
  if (row.project_id !== runner.projectId) return `session ${sessionId} belongs to another project`;
  if (row.owner_state && isActive(row.owner_state)) {
    return `session ${sessionId} belongs to runner ${row.runner_id}, which is still running`;
  }
  return undefined;
}

/** Records a runner's activity in a session, refusing (403) a session the runner may not claim. */
export async function touchSession(
  tx: Queryable,
  sessionId: string,
  runner: { id: number; projectId: number; cwd: string },
  resumable = false,
): Promise<void> {
  const problem = await sessionClaimProblem(tx, sessionId, runner);
  if (problem) {
    throw new AppError("forbidden", `runner ${runner.id} may not report on this session: ${problem}`);
  }
  await tx.query(
    `INSERT INTO sessions (id, project_id, runner_id, cwd, resumable, first_activity_at, last_activity_at)
     VALUES ($1, $2, $3, $4, $5, now(), now())
     ON CONFLICT (id) DO UPDATE SET runner_id = excluded.runner_id, last_activity_at = now(),
       resumable = sessions.resumable OR excluded.resumable, updated_at = now()`,
    [sessionId, runner.projectId, runner.id, runner.cwd, resumable],
  );
}

async function claimOrRefuse(tx: Queryable, sessionId: string, runner: RunnerFacts): Promise<void> {
  const problem = await sessionClaimProblem(tx, sessionId, runner);
  if (problem) {
    throw new AppError("forbidden", `runner ${runner.id} may not report on this session: ${problem}`);
  }
}

const zeroDelta = (r: RunnerFacts, sessionId: string, model: string): UsageDelta => ({
  runnerId: r.id,
  projectId: r.projectId,
  sessionId,
  model,
  input: 0,
  output: 0,
  cacheCreation: 0,
  cacheCreation1h: 0,
  cacheRead: 0,
  messages: 0,
  costUsd: 0,
});

/** Books the agent's cumulative transcript totals; returns what changed (tokens and cost). */
export async function recordUsage(
  tx: Queryable,
  runnerId: number,
  totals: UsageTotal[],
  prices?: PriceOverrides,
): Promise<UsageDelta[]> {
  const runner = await runnerFacts(tx, runnerId);
  if (!runner) return [];
  const deltas: UsageDelta[] = [];
  for (const u of totals) {
    // Refused before anything is booked: tokens reported for another project's session are never counted.
    await claimOrRefuse(tx, u.sessionId, runner);
    const [old] = await tx.query<UsageRow>(
      `SELECT input_tokens, output_tokens, cache_creation_tokens, cache_creation_1h_tokens, cache_read_tokens, messages
       FROM runner_usage WHERE runner_id = $1 AND session_id = $2 AND model = $3 FOR UPDATE`,
      [runnerId, u.sessionId, u.model],
    );
    const d: UsageDelta = {
      ...zeroDelta(runner, u.sessionId, u.model),
      input: Math.max(0, u.input - (old?.input_tokens ?? 0)),
      output: Math.max(0, u.output - (old?.output_tokens ?? 0)),
      cacheCreation: Math.max(0, u.cacheCreation - (old?.cache_creation_tokens ?? 0)),
      cacheCreation1h: Math.max(0, (u.cacheCreation1h ?? 0) - (old?.cache_creation_1h_tokens ?? 0)),
      cacheRead: Math.max(0, u.cacheRead - (old?.cache_read_tokens ?? 0)),
      messages: Math.max(0, (u.messages ?? 0) - (old?.messages ?? 0)),
    };
    if (tokenTotal(d) === 0 && d.messages === 0) continue;
    // The estimate of the whole cumulative total (not of the delta), so rounding never accumulates.
    const estimate = costOf(
      {
        input: Math.max(u.input, old?.input_tokens ?? 0),
        output: Math.max(u.output, old?.output_tokens ?? 0),
        cacheCreation: Math.max(u.cacheCreation, old?.cache_creation_tokens ?? 0),
        cacheCreation1h: Math.max(u.cacheCreation1h ?? 0, old?.cache_creation_1h_tokens ?? 0),
        cacheRead: Math.max(u.cacheRead, old?.cache_read_tokens ?? 0),
      },
      u.model,
      prices,
    );
    await tx.query(
      `INSERT INTO runner_usage AS r (runner_id, session_id, model, input_tokens, output_tokens, cache_creation_tokens,
         cache_creation_1h_tokens, cache_read_tokens, messages, estimated_cost_usd, priced)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)
       ON CONFLICT (runner_id, session_id, model) DO UPDATE SET
         input_tokens = greatest(r.input_tokens, excluded.input_tokens),
         output_tokens = greatest(r.output_tokens, excluded.output_tokens),
         cache_creation_tokens = greatest(r.cache_creation_tokens, excluded.cache_creation_tokens),
         cache_creation_1h_tokens = greatest(r.cache_creation_1h_tokens, excluded.cache_creation_1h_tokens),
         cache_read_tokens = greatest(r.cache_read_tokens, excluded.cache_read_tokens),
         messages = greatest(r.messages, excluded.messages),
         estimated_cost_usd = excluded.estimated_cost_usd, priced = excluded.priced,
         updated_at = now()`,
      [
        runnerId,
        u.sessionId,
        u.model,
        u.input,
        u.output,
        u.cacheCreation,
        u.cacheCreation1h ?? 0,
        u.cacheRead,
        u.messages ?? 0,
        estimate.usd,
        estimate.priced,
      ],
    );
    await tx.query(
      `INSERT INTO token_usage AS t (day, runner_id, session_id, model, project_id, input_tokens, output_tokens,
         cache_creation_tokens, cache_creation_1h_tokens, cache_read_tokens)
       VALUES ((now() AT TIME ZONE 'UTC')::date, $1, $2, $3, $4, $5, $6, $7, $8, $9)
       ON CONFLICT (day, runner_id, session_id, model) DO UPDATE SET
         input_tokens = t.input_tokens + excluded.input_tokens,
         output_tokens = t.output_tokens + excluded.output_tokens,
         cache_creation_tokens = t.cache_creation_tokens + excluded.cache_creation_tokens,
         cache_creation_1h_tokens = t.cache_creation_1h_tokens + excluded.cache_creation_1h_tokens,
         cache_read_tokens = t.cache_read_tokens + excluded.cache_read_tokens`,
      [
        runnerId,
        d.sessionId,
        d.model,
        d.projectId,
        d.input,
        d.output,
        d.cacheCreation,
        d.cacheCreation1h,
        d.cacheRead,
      ],
    );
    await touchSession(tx, d.sessionId, runner, true);
    await tx.query(
      `UPDATE sessions SET
         tokens_input = tokens_input + $2, tokens_output = tokens_output + $3,
         tokens_cache_creation = tokens_cache_creation + $4, tokens_cache_read = tokens_cache_read + $5,
         model = $6,
         message_count = (SELECT coalesce(sum(messages), 0) FROM runner_usage WHERE session_id = $1)
       WHERE id = $1`,
      [d.sessionId, d.input, d.output, d.cacheCreation, d.cacheRead, d.model],
    );
    d.costUsd = await bookCost(tx, runner, d.sessionId, d.model);
    deltas.push(d);
  }
  return deltas;
}

/**
 * Books Claude Code's own cumulative figures for a runner. Values of a series only grow (a repeated or
 * older export changes nothing); per (session, model, kind) the series of a source add up and the larger
 * source wins (telemetry and a result event report the same requests).
 */
export async function recordReported(
  tx: Queryable,
  runnerId: number,
  source: "telemetry" | "result",
  values: ReportedPoint[],
): Promise<UsageDelta[]> {
  const runner = await runnerFacts(tx, runnerId);
  if (!runner || values.length === 0) return [];
  const changed = new Map<string, { sessionId: string; model: string }>();
  for (const sessionId of new Set(values.map((v) => v.sessionId))) await claimOrRefuse(tx, sessionId, runner);
  for (const v of values) {
    const [row] = await tx.query<{ changed: boolean }>(
      `INSERT INTO reported_series AS s (runner_id, source, series, start_ns, session_id, model, kind, value)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
       ON CONFLICT (runner_id, source, series, start_ns) DO UPDATE SET
         value = greatest(s.value, excluded.value), updated_at = now()
         WHERE excluded.value > s.value
       RETURNING true AS changed`,
      [runnerId, source, v.series, v.start, v.sessionId, v.model, v.kind, v.value],
    );
    if (row?.changed) {
      changed.set(`${v.sessionId}\u0000${v.model}`, { sessionId: v.sessionId, model: v.model });
    }
  }
  const deltas: UsageDelta[] = [];
  for (const { sessionId, model } of changed.values()) {
    const sums = await tx.query<{ kind: ReportKind; value: number }>(
      `SELECT kind, max(total)::float8 AS value FROM (
         SELECT source, kind, sum(value) AS total FROM reported_series
         WHERE runner_id = $1 AND session_id = $2 AND model = $3 GROUP BY source, kind) x
       GROUP BY kind`,
      [runnerId, sessionId, model],
    );
    const by = Object.fromEntries(sums.map((s) => [s.kind, s.value])) as Partial<Record<ReportKind, number>>;
    const tokens = (k: ReportKind) => (by[k] === undefined ? null : Math.round(by[k]!));
    await tx.query(
      `INSERT INTO runner_usage AS r (runner_id, session_id, model, reported_cost_usd, reported_input_tokens,
         reported_output_tokens, reported_cache_read_tokens, reported_cache_creation_tokens)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
       ON CONFLICT (runner_id, session_id, model) DO UPDATE SET
         reported_cost_usd = coalesce(excluded.reported_cost_usd, r.reported_cost_usd),
         reported_input_tokens = coalesce(excluded.reported_input_tokens, r.reported_input_tokens),
         reported_output_tokens = coalesce(excluded.reported_output_tokens, r.reported_output_tokens),
         reported_cache_read_tokens = coalesce(excluded.reported_cache_read_tokens, r.reported_cache_read_tokens),
         reported_cache_creation_tokens = coalesce(excluded.reported_cache_creation_tokens, r.reported_cache_creation_tokens),
         updated_at = now()`,
      [
        runnerId,
        sessionId,
        model,
        by.cost ?? null,
        tokens("input"),
        tokens("output"),
        tokens("cacheRead"),
        tokens("cacheCreation"),
      ],
    );
    await touchSession(tx, sessionId, runner, true);
    const cost = await bookCost(tx, runner, sessionId, model);
    if (cost !== 0) deltas.push({ ...zeroDelta(runner, sessionId, model), costUsd: cost });
  }
  return deltas;
}

interface CostState {
  estimated_cost_usd: number;
  priced: boolean;
  reported_cost_usd: number | null;
  booked_reported_usd: number;
  booked_estimated_usd: number;
  booked_unpriced_tokens: number;
  tokens: number;
}

/**
 * Brings what is booked for one (runner, session, model) in line with what it should be, on today's
 * token_usage row, the session and the runner; returns the change of cost.
 */
async function bookCost(
  tx: Queryable,
  runner: RunnerFacts,
  sessionId: string,
  model: string,
): Promise<number> {
  const [s] = await tx.query<CostState>(
    `SELECT estimated_cost_usd, priced, reported_cost_usd, booked_reported_usd, booked_estimated_usd,
            booked_unpriced_tokens,
            (input_tokens + output_tokens + cache_creation_tokens + cache_read_tokens) AS tokens
     FROM runner_usage WHERE runner_id = $1 AND session_id = $2 AND model = $3 FOR UPDATE`,
    [runner.id, sessionId, model],
  );
  if (!s) return 0;
  let reported = 0, estimated = 0, unpriced = 0;
  if (s.reported_cost_usd !== null) reported = s.reported_cost_usd;
  else if (s.priced) estimated = s.estimated_cost_usd;
  else unpriced = s.tokens;
  const dReported = reported - s.booked_reported_usd;
  const dEstimated = estimated - s.booked_estimated_usd;
  const dUnpriced = unpriced - s.booked_unpriced_tokens;
  if (dReported === 0 && dEstimated === 0 && dUnpriced === 0) return 0;
  const dCost = dReported + dEstimated;
  await tx.query(
    `UPDATE runner_usage SET booked_reported_usd = $4, booked_estimated_usd = $5, booked_unpriced_tokens = $6
     WHERE runner_id = $1 AND session_id = $2 AND model = $3`,
    [runner.id, sessionId, model, reported, estimated, unpriced],
  );
  await tx.query(
    `INSERT INTO token_usage AS t (day, runner_id, session_id, model, project_id, cost_usd, reported_cost_usd,
       estimated_cost_usd, unpriced_tokens)
     VALUES ((now() AT TIME ZONE 'UTC')::date, $1, $2, $3, $4, $5, $6, $7, $8)
     ON CONFLICT (day, runner_id, session_id, model) DO UPDATE SET
       cost_usd = t.cost_usd + excluded.cost_usd,
       reported_cost_usd = t.reported_cost_usd + excluded.reported_cost_usd,
       estimated_cost_usd = t.estimated_cost_usd + excluded.estimated_cost_usd,
       unpriced_tokens = t.unpriced_tokens + excluded.unpriced_tokens`,
    [runner.id, sessionId, model, runner.projectId, dCost, dReported, dEstimated, dUnpriced],
  );
  await tx.query(
    `UPDATE sessions SET cost_usd = cost_usd + $2, cost_reported_usd = cost_reported_usd + $3,
       unpriced_tokens = unpriced_tokens + $4, updated_at = now() WHERE id = $1`,
    [sessionId, dCost, dReported, dUnpriced],
  );
  await tx.query(
    `UPDATE runners SET cost_usd = cost_usd + $2, cost_reported_usd = cost_reported_usd + $3,
       unpriced_tokens = unpriced_tokens + $4 WHERE id = $1`,
    [runner.id, dCost, dReported, dUnpriced],
  );
  return dCost;
}

/**
 * An observed session has no agent reading its transcripts: its tokens are the ones Claude Code reported
 * (telemetry), booked like transcript counts so budgets, reports and the runner see them.
 */
export async function adoptReportedTokens(tx: Queryable, runnerId: number): Promise<UsageDelta[]> {
  const rows = await tx.query<{
    session_id: string;
    model: string;
    i: number | null;
    o: number | null;
    cr: number | null;
    cc: number | null;
  }>(
    `SELECT session_id, model, reported_input_tokens AS i, reported_output_tokens AS o,
       reported_cache_read_tokens AS cr, reported_cache_creation_tokens AS cc
     FROM runner_usage WHERE runner_id = $1 AND reported_input_tokens IS NOT NULL`,
    [runnerId],
  );
  const deltas = await recordUsage(
    tx,
    runnerId,
    rows.map((r) => ({
      sessionId: r.session_id,
      model: r.model,
      input: r.i ?? 0,
      output: r.o ?? 0,
      cacheRead: r.cr ?? 0,
      cacheCreation: r.cc ?? 0,
    })),
  );
  if (deltas.length) {
    await tx.query(
      `UPDATE runners r SET tokens_input = u.i, tokens_output = u.o, tokens_cache_creation = u.cc,
         tokens_cache_read = u.cr
       FROM (SELECT coalesce(sum(input_tokens), 0) AS i, coalesce(sum(output_tokens), 0) AS o,
               coalesce(sum(cache_creation_tokens), 0) AS cc, coalesce(sum(cache_read_tokens), 0) AS cr
             FROM runner_usage WHERE runner_id = $1) u
       WHERE r.id = $1`,
      [runnerId],
    );
  }
  return deltas;
}

/** Token and cost sums of one group (a day, project, model or session), as the usage report adds them. */
export interface UsageSums {
  key: string;
  input: number;
  output: number;
  cache_creation: number;
  cache_read: number;
  cost_usd: number;
  reported_usd: number;
  unpriced: number;
}

type UsageGroup = (typeof USAGE_GROUPS)[number];

const GROUP_KEY: Record<UsageGroup, string> = {
  day: "to_char(u.day, 'YYYY-MM-DD')",
  project: "p.name",
  model: "u.model",
  session: "u.session_id",
};

/** Usage summed by day, project, model or session, of one project or all, within calendar days. */
export async function usageSums(
  q: Queryable,
  by: UsageGroup,
  f: { project: string | null; since: string | null; until: string | null },
): Promise<UsageSums[]> {
  return await q.query<UsageSums>(
    `SELECT ${GROUP_KEY[by]} AS key, sum(u.input_tokens)::int8 AS input, sum(u.output_tokens)::int8 AS output,
       sum(u.cache_creation_tokens)::int8 AS cache_creation, sum(u.cache_read_tokens)::int8 AS cache_read,
       sum(u.cost_usd)::float8 AS cost_usd, sum(u.reported_cost_usd)::float8 AS reported_usd,
       sum(u.unpriced_tokens)::int8 AS unpriced
     FROM token_usage u JOIN projects p ON p.id = u.project_id
     WHERE ($1::text IS NULL OR p.name = $1) AND ($2::date IS NULL OR u.day >= $2::date)
       AND ($3::date IS NULL OR u.day <= $3::date)
     GROUP BY 1 ORDER BY 1`,
    [f.project, f.since, f.until],
  );
}
