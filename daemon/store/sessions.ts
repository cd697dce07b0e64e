/** Sessions as the API shows them: the row with its runners, usage check and stored transcript. */
import type { Queryable } from "../../lib/db/types.ts";
import { AppError } from "../../lib/errors.ts";
import type { Session, UsageCheck } from "../../lib/schemas/session.ts";
import { costSummaryOf } from "../../lib/cost.ts";
import { ACTIVE_SQL } from "../../lib/runner_states.ts";
import { tokenTotal } from "../../lib/tokens.ts";
import type { TokenCostColumns } from "./usage.ts";

interface SessionRow extends TokenCostColumns {
  id: string;
  project: string;
  runner_id: number | null;
  runners: number;
  active: boolean;
  cwd: string;
  model: string | null;
  message_count: number;
  resumable: boolean;
  /** [input, output, cache read, cache creation] from transcripts, and as Claude Code reported them. */
  check_transcript: number[];
  check_reported: (number | null)[] | null;
  first_activity_at: Date | null;
  last_activity_at: Date | null;
  t_store: string | null;
  t_bytes: number | null;
  t_stored_bytes: number | null;
  t_sha256: string | null;
  t_lines: number | null;
  t_stored_at: Date | null;
  t_location: string | null;
}

const SELECT = `
  SELECT s.*, p.name AS project,
    (SELECT count(*)::int FROM runners r WHERE r.session_id = s.id) AS runners,
    EXISTS (SELECT 1 FROM runners r WHERE r.session_id = s.id AND r.state IN ${ACTIVE_SQL}) AS active,
    (SELECT jsonb_build_array(coalesce(sum(u.input_tokens), 0), coalesce(sum(u.output_tokens), 0),
        coalesce(sum(u.cache_read_tokens), 0), coalesce(sum(u.cache_creation_tokens), 0))
       FROM runner_usage u WHERE u.session_id = s.id) AS check_transcript,
    (SELECT CASE WHEN count(u.reported_input_tokens) = 0 THEN NULL ELSE
        jsonb_build_array(sum(u.reported_input_tokens), sum(u.reported_output_tokens),
          sum(u.reported_cache_read_tokens), sum(u.reported_cache_creation_tokens)) END
       FROM runner_usage u WHERE u.session_id = s.id) AS check_reported,
    t.store AS t_store, t.bytes AS t_bytes, t.stored_bytes AS t_stored_bytes, t.sha256 AS t_sha256,
    t.lines AS t_lines, t.stored_at AS t_stored_at, t.location AS t_location
  FROM sessions s JOIN projects p ON p.id = s.project_id LEFT JOIN transcripts t ON t.session_id = s.id`;

function toSession(r: SessionRow): Session {
  return {
    id: r.id,
    project: r.project,
    runnerId: r.runner_id,
    runners: r.runners,
    cwd: r.cwd,
    model: r.model,
    messageCount: r.message_count,
    tokens: {
      input: r.tokens_input,
      output: r.tokens_output,
      cacheCreation: r.tokens_cache_creation,
      cacheRead: r.tokens_cache_read,
    },
    costUsd: costSummaryOf(r.cost_usd, r.cost_reported_usd, r.unpriced_tokens).usd,
    cost: costSummaryOf(r.cost_usd, r.cost_reported_usd, r.unpriced_tokens),
    usageCheck: usageCheckOf(r.check_transcript, r.check_reported),
    resumable: r.resumable || r.t_store !== null,
    active: r.active,
    firstActivityAt: r.first_activity_at?.toISOString() ?? null,
    lastActivityAt: r.last_activity_at?.toISOString() ?? null,
    transcript: r.t_store === null ? null : {
      store: r.t_store,
      bytes: r.t_bytes!,
      storedBytes: r.t_stored_bytes!,
      sha256: r.t_sha256!,
      lines: r.t_lines!,
      storedAt: r.t_stored_at!.toISOString(),
    },
  };
}

const counts = (v: (number | null)[]) => ({
  input: Number(v[0] ?? 0),
  output: Number(v[1] ?? 0),
  cacheRead: Number(v[2] ?? 0),
  cacheCreation: Number(v[3] ?? 0),
});

function usageCheckOf(transcriptRaw: number[], reportedRaw: (number | null)[] | null): UsageCheck {
  const transcript = counts(transcriptRaw);
  const reported = reportedRaw ? counts(reportedRaw) : null;
  const any = (c: typeof transcript) => tokenTotal(c) > 0;
  const status: UsageCheck["status"] = !reported
    ? (any(transcript) ? "transcript-only" : "none")
    : !any(transcript)
    ? "reported-only"
    : JSON.stringify(reported) === JSON.stringify(transcript)
    ? "agree"
    : "differ";
  return { status, transcript, reported };
}

async function getRow(q: Queryable, id: string): Promise<SessionRow> {
  const [row] = await q.query<SessionRow>(`${SELECT} WHERE s.id = $1`, [id]);
  if (!row) throw new AppError("not_found", `no session ${id}: list them with "stratavore sessions"`);
  return row;
}

/** Sessions newest activity first, of one project or all. */
export async function listSessions(q: Queryable, project: string | null, limit: number): Promise<Session[]> {
  const rows = await q.query<SessionRow>(
    `${SELECT} WHERE ($1::text IS NULL OR p.name = $1) ORDER BY s.last_activity_at DESC NULLS LAST, s.id LIMIT $2`,
    [project, limit],
  );
  return rows.map(toSession);
}

export async function getSession(q: Queryable, id: string): Promise<Session> {
  return toSession(await getRow(q, id));
}

/** Where a session's stored transcript is, or undefined when none was kept. */
export async function storedTranscriptOf(q: Queryable, id: string): Promise<string | undefined> {
  return (await getRow(q, id)).t_location ?? undefined;
}

/** Whether a runner may store a session's transcript: the session is its project's, and the runner ran it last. */
export async function transcriptUploadCheck(
  q: Queryable,
  runnerId: number,
  sessionId: string,
): Promise<{ project: string; sessionOk: boolean; own: boolean } | undefined> {
  const [row] = await q.query<{ project: string; session_ok: boolean; own: boolean }>(
    `SELECT p.name AS project,
       EXISTS (SELECT 1 FROM sessions x WHERE x.id = $2 AND x.project_id = p.id) AS session_ok,
       EXISTS (SELECT 1 FROM sessions x WHERE x.id = $2 AND x.runner_id = r.id) AS own
     FROM runners r JOIN projects p ON p.id = r.project_id WHERE r.id = $1`,
    [runnerId, sessionId],
  );
  return row && { project: row.project, sessionOk: row.session_ok, own: row.own };
}

export interface StoredTranscriptRow {
  store: string;
  location: string;
  bytes: number;
  storedBytes: number;
  sha256: string;
  lines: number;
}

/** Records where a session's transcript was stored (replacing an earlier copy); the session becomes resumable. */
export async function recordTranscript(
  q: Queryable,
  sessionId: string,
  t: StoredTranscriptRow,
): Promise<void> {
  await q.query(
    `INSERT INTO transcripts (session_id, store, location, bytes, stored_bytes, sha256, lines)
     VALUES ($1, $2, $3, $4, $5, $6, $7)
     ON CONFLICT (session_id) DO UPDATE SET store = excluded.store, location = excluded.location,
       bytes = excluded.bytes, stored_bytes = excluded.stored_bytes, sha256 = excluded.sha256,
       lines = excluded.lines, stored_at = now()`,
    [sessionId, t.store, t.location, t.bytes, t.storedBytes, t.sha256, t.lines],
  );
  await q.query("UPDATE sessions SET resumable = true, updated_at = now() WHERE id = $1", [sessionId]);
}
