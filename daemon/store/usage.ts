/**
 * Token usage from agents. Agents report cumulative totals per (session, model) since their runner
 * started; the daemon keeps the last totals per runner in runner_usage and books only the difference,
 * so a retried or repeated heartbeat never counts a token twice.
 */
import type { Queryable } from "../../lib/db/types.ts";
import type { UsageTotal } from "../../lib/schemas/runner.ts";
import { costOf, type PriceOverrides } from "../../lib/claude/pricing.ts";

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
  costUsd: number;
}

export function deltaTokens(d: Pick<UsageDelta, "input" | "output" | "cacheCreation" | "cacheRead">): number {
  return d.input + d.output + d.cacheCreation + d.cacheRead;
}

interface UsageRow {
  input_tokens: number;
  output_tokens: number;
  cache_creation_tokens: number;
  cache_creation_1h_tokens: number;
  cache_read_tokens: number;
  messages: number;
}

/** Makes sure a session row exists and points at this runner (on start, hooks and usage). */
export async function touchSession(
  tx: Queryable,
  sessionId: string,
  runner: { id: number; projectId: number; cwd: string },
  resumable = false,
): Promise<void> {
  await tx.query(
    `INSERT INTO sessions (id, project_id, runner_id, cwd, resumable, first_activity_at, last_activity_at)
     VALUES ($1, $2, $3, $4, $5, now(), now())
     ON CONFLICT (id) DO UPDATE SET runner_id = excluded.runner_id, last_activity_at = now(),
       resumable = sessions.resumable OR excluded.resumable, updated_at = now()`,
    [sessionId, runner.projectId, runner.id, runner.cwd, resumable],
  );
}

export async function recordUsage(
  tx: Queryable,
  runnerId: number,
  totals: UsageTotal[],
  prices?: PriceOverrides,
): Promise<UsageDelta[]> {
  const [runner] = await tx.query<{ project_id: number; cwd: string }>(
    "SELECT project_id, cwd FROM runners WHERE id = $1",
    [runnerId],
  );
  if (!runner) return [];
  const deltas: UsageDelta[] = [];
  for (const u of totals) {
    const [old] = await tx.query<UsageRow>(
      `SELECT input_tokens, output_tokens, cache_creation_tokens, cache_creation_1h_tokens, cache_read_tokens, messages
       FROM runner_usage WHERE runner_id = $1 AND session_id = $2 AND model = $3 FOR UPDATE`,
      [runnerId, u.sessionId, u.model],
    );
    const d: UsageDelta = {
      runnerId,
      projectId: runner.project_id,
      sessionId: u.sessionId,
      model: u.model,
      input: Math.max(0, u.input - (old?.input_tokens ?? 0)),
      output: Math.max(0, u.output - (old?.output_tokens ?? 0)),
      cacheCreation: Math.max(0, u.cacheCreation - (old?.cache_creation_tokens ?? 0)),
      cacheCreation1h: Math.max(0, (u.cacheCreation1h ?? 0) - (old?.cache_creation_1h_tokens ?? 0)),
      cacheRead: Math.max(0, u.cacheRead - (old?.cache_read_tokens ?? 0)),
      messages: Math.max(0, (u.messages ?? 0) - (old?.messages ?? 0)),
      costUsd: 0,
    };
    if (deltaTokens(d) === 0 && d.messages === 0) continue;
    d.costUsd = costOf(
      {
        input: d.input,
        output: d.output,
        cacheCreation: d.cacheCreation,
        cacheCreation1h: d.cacheCreation1h,
        cacheRead: d.cacheRead,
      },
      u.model,
      prices,
    ).usd;
    await tx.query(
      `INSERT INTO runner_usage AS r (runner_id, session_id, model, input_tokens, output_tokens, cache_creation_tokens,
         cache_creation_1h_tokens, cache_read_tokens, messages)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
       ON CONFLICT (runner_id, session_id, model) DO UPDATE SET
         input_tokens = greatest(r.input_tokens, excluded.input_tokens),
         output_tokens = greatest(r.output_tokens, excluded.output_tokens),
         cache_creation_tokens = greatest(r.cache_creation_tokens, excluded.cache_creation_tokens),
         cache_creation_1h_tokens = greatest(r.cache_creation_1h_tokens, excluded.cache_creation_1h_tokens),
         cache_read_tokens = greatest(r.cache_read_tokens, excluded.cache_read_tokens),
         messages = greatest(r.messages, excluded.messages),
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
      ],
    );
    await tx.query(
      `INSERT INTO token_usage AS t (day, runner_id, session_id, model, project_id, input_tokens, output_tokens,
         cache_creation_tokens, cache_creation_1h_tokens, cache_read_tokens, cost_usd)
       VALUES ((now() AT TIME ZONE 'UTC')::date, $1, $2, $3, $4, $5, $6, $7, $8, $9, $10)
       ON CONFLICT (day, runner_id, session_id, model) DO UPDATE SET
         input_tokens = t.input_tokens + excluded.input_tokens,
         output_tokens = t.output_tokens + excluded.output_tokens,
         cache_creation_tokens = t.cache_creation_tokens + excluded.cache_creation_tokens,
         cache_creation_1h_tokens = t.cache_creation_1h_tokens + excluded.cache_creation_1h_tokens,
         cache_read_tokens = t.cache_read_tokens + excluded.cache_read_tokens,
         cost_usd = t.cost_usd + excluded.cost_usd`,
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
        d.costUsd,
      ],
    );
    await touchSession(
      tx,
      d.sessionId,
      { id: runnerId, projectId: runner.project_id, cwd: runner.cwd },
      true,
    );
    await tx.query(
      `UPDATE sessions SET
         tokens_input = tokens_input + $2, tokens_output = tokens_output + $3,
         tokens_cache_creation = tokens_cache_creation + $4, tokens_cache_read = tokens_cache_read + $5,
         cost_usd = cost_usd + $6, model = $7,
         message_count = (SELECT coalesce(sum(messages), 0) FROM runner_usage WHERE session_id = $1)
       WHERE id = $1`,
      [d.sessionId, d.input, d.output, d.cacheCreation, d.cacheRead, d.costUsd, d.model],
    );
    deltas.push(d);
  }
  return deltas;
}
