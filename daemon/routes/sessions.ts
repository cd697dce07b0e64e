/** /api/v1/sessions (admin) and the agent's transcript upload, /api/v1/runners/:id/transcript. */
import { Hono } from "hono";
import { z } from "zod";
import type { Queryable } from "../../lib/db/types.ts";
import { AppError } from "../../lib/errors.ts";
import { projectName, runnerIdText } from "../../lib/schemas/common.ts";
import type { Session, UsageCheck } from "../../lib/schemas/session.ts";
import { costSummaryOf } from "../../lib/cost.ts";
import { readParam } from "../http/body.ts";
import type { AppEnv } from "../http/types.ts";
import type { Services } from "../services.ts";
import { gunzip, type TranscriptStore, TranscriptTooLarge } from "../transcripts.ts";
import { ACTIVE_SQL } from "../store/runners.ts";
import { tokenTotal } from "../../lib/tokens.ts";

const sessionId = z.string().regex(
  /^[A-Za-z0-9_-]{1,200}$/,
  "expected a session id (letters, digits, - and _)",
);
const limitParam = z.string().regex(/^\d{1,4}$/, "expected a whole number up to 9999").transform(Number)
  .optional();
export const MAX_TRANSCRIPT_BYTES = 256 * 1024 * 1024;

interface SessionRow {
  id: string;
  project: string;
  runner_id: number | null;
  runners: number;
  active: boolean;
  cwd: string;
  model: string | null;
  message_count: number;
  tokens_input: number;
  tokens_output: number;
  tokens_cache_creation: number;
  tokens_cache_read: number;
  cost_usd: number;
  cost_reported_usd: number;
  unpriced_tokens: number;
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

export function sessionRoutes(s: Services, store: TranscriptStore): Hono<AppEnv> {
  const app = new Hono<AppEnv>();
  app.get("/", async (c) => {
    const project = c.req.query("project") ? readParam("project", c.req.query("project"), projectName) : null;
    const limit = readParam("limit", c.req.query("limit"), limitParam) ?? 100;
    const rows = await s.db.query<SessionRow>(
      `${SELECT} WHERE ($1::text IS NULL OR p.name = $1) ORDER BY s.last_activity_at DESC NULLS LAST, s.id LIMIT $2`,
      [project, limit],
    );
    return c.json({ sessions: rows.map(toSession) });
  });
  app.get("/:id", async (c) => {
    const id = readParam("session id", c.req.param("id"), sessionId);
    return c.json(toSession(await getRow(s.db, id)));
  });
  app.get("/:id/transcript", async (c) => {
    const id = readParam("session id", c.req.param("id"), sessionId);
    const row = await getRow(s.db, id);
    if (!row.t_location) {
      throw new AppError(
        "not_found",
        `session ${id} has no stored transcript (it is kept when a session ends)`,
      );
    }
    const gz = await store.get(row.t_location);
    return new Response(gz.pipeThrough(gunzip()), {
      headers: {
        "content-type": "application/x-ndjson; charset=utf-8",
        "content-disposition": `attachment; filename="${id}.jsonl"`,
      },
    });
  });
  return app;
}

/** PUT /api/v1/runners/:id/transcript?session=<id>: the agent uploads a finished session's transcript (gzip). */
export function transcriptUploadRoute(s: Services, store: TranscriptStore): Hono<AppEnv> {
  const app = new Hono<AppEnv>();
  app.put("/:id/transcript", async (c) => {
    const runnerId = readParam("runner id", c.req.param("id"), runnerIdText);
    const sid = readParam("session", c.req.query("session"), sessionId);
    const declared = Number(c.req.header("content-length") ?? "NaN");
    if (Number.isFinite(declared) && declared > MAX_TRANSCRIPT_BYTES) {
      throw new AppError(
        "payload_too_large",
        `a transcript may be at most ${MAX_TRANSCRIPT_BYTES} bytes compressed`,
      );
    }
    if (!/^application\/gzip\b/.test(c.req.header("content-type") ?? "")) {
      throw new AppError(
        "unsupported_media_type",
        "send the transcript gzip-compressed, as application/gzip",
      );
    }
    const [row] = await s.db.query<{ project: string; session_ok: boolean; own: boolean }>(
      `SELECT p.name AS project,
         EXISTS (SELECT 1 FROM sessions x WHERE x.id = $2 AND x.project_id = p.id) AS session_ok,
         EXISTS (SELECT 1 FROM sessions x WHERE x.id = $2 AND x.runner_id = r.id) AS own
       FROM runners r JOIN projects p ON p.id = r.project_id WHERE r.id = $1`,
      [runnerId, sid],
    );
    if (!row) throw new AppError("not_found", `no runner ${runnerId}`);
    if (!row.session_ok) {
      throw new AppError("not_found", `session ${sid} is not known in project ${row.project}`);
    }
    // Only the runner that ran the session last stores its transcript: another runner's token (in another
    // session's hands) must not replace it.
    if (!row.own) {
      throw new AppError(
        "forbidden",
        `session ${sid} belongs to another runner: only its own runner uploads it`,
      );
    }
    if (!c.req.raw.body) throw new AppError("invalid_body", "the transcript body is empty");
    let stored;
    try {
      stored = await store.put(row.project, sid, c.req.raw.body, MAX_TRANSCRIPT_BYTES, c.req.raw.signal);
    } catch (e) {
      if (e instanceof TranscriptTooLarge) throw new AppError("payload_too_large", e.message);
      throw new AppError("invalid_body", `the transcript is not valid gzip: ${(e as Error).message}`);
    }
    await s.db.query(
      `INSERT INTO transcripts (session_id, store, location, bytes, stored_bytes, sha256, lines)
       VALUES ($1, $2, $3, $4, $5, $6, $7)
       ON CONFLICT (session_id) DO UPDATE SET store = excluded.store, location = excluded.location,
         bytes = excluded.bytes, stored_bytes = excluded.stored_bytes, sha256 = excluded.sha256,
         lines = excluded.lines, stored_at = now()`,
      [sid, store.kind, stored.location, stored.bytes, stored.storedBytes, stored.sha256, stored.lines],
    );
    await s.db.query("UPDATE sessions SET resumable = true, updated_at = now() WHERE id = $1", [sid]);
    return c.json({
      session: sid,
      bytes: stored.bytes,
      storedBytes: stored.storedBytes,
      sha256: stored.sha256,
      lines: stored.lines,
    });
  });
  return app;
}
