/**
 * Claude Code's API requests and errors (its `api_request` / `api_error` telemetry events), one row each,
 * keyed by runner, session and Claude Code's event sequence so a repeated export is stored once.
 */
import type { Queryable } from "../../lib/db/types.ts";
import type { ApiCall } from "../../lib/claude/telemetry_usage.ts";

export async function recordApiCalls(q: Queryable, runnerId: number, calls: ApiCall[]): Promise<void> {
  if (calls.length === 0) return;
  const rows = calls.map((c) => ({
    seq: c.sequence,
    kind: c.kind,
    sid: c.sessionId,
    model: c.model,
    rid: c.requestId,
    at: c.at.toISOString(),
    ms: c.durationMs,
    cost: c.costUsd,
    ti: c.input,
    tout: c.output,
    tcr: c.cacheRead,
    tcc: c.cacheCreation,
    status: c.statusCode,
    err: c.error,
  }));
  await q.query(
    `INSERT INTO api_calls (runner_id, event_seq, kind, session_id, model, request_id, at, day, duration_ms,
       cost_usd, input_tokens, output_tokens, cache_read_tokens, cache_creation_tokens, status_code, error)
     SELECT $1, x.seq, x.kind, x.sid, x.model, x.rid, x.at, (x.at AT TIME ZONE 'UTC')::date, x.ms, x.cost,
       x.ti, x.tout, x.tcr, x.tcc, x.status, x.err
     FROM jsonb_to_recordset($2::jsonb) AS x(seq bigint, kind text, sid text, model text, rid text,
       at timestamptz, ms bigint, cost float8, ti bigint, tout bigint, tcr bigint, tcc bigint, status int, err text)
     ON CONFLICT (runner_id, session_id, event_seq) DO NOTHING`,
    [runnerId, rows],
  );
}

export interface ApiCallSummary {
  requests: number;
  errors: number;
  /** Mean duration of successful requests, in milliseconds; null without any. */
  meanMs: number | null;
  costUsd: number;
}

/** A runner's API calls in short: how many, how many failed, how long they took. */
export async function apiCallSummary(q: Queryable, runnerId: number): Promise<ApiCallSummary> {
  const [r] = await q.query<{ requests: number; errors: number; mean_ms: number | null; cost: number }>(
    `SELECT count(*) FILTER (WHERE kind = 'request')::int AS requests,
            count(*) FILTER (WHERE kind = 'error')::int AS errors,
            (avg(duration_ms) FILTER (WHERE kind = 'request'))::float8 AS mean_ms,
            coalesce(sum(cost_usd), 0)::float8 AS cost
     FROM api_calls WHERE runner_id = $1`,
    [runnerId],
  );
  return {
    requests: r?.requests ?? 0,
    errors: r?.errors ?? 0,
    meanMs: r?.mean_ms === null || r?.mean_ms === undefined ? null : Math.round(r.mean_ms),
    costUsd: Math.round((r?.cost ?? 0) * 1e6) / 1e6,
  };
}
