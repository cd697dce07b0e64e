/** /api/v1/sessions (admin) and the agent's transcript upload, /api/v1/runners/:id/transcript. */
import { Hono } from "hono";
import { z } from "zod";
import { AppError } from "../../lib/errors.ts";
import { projectName, runnerIdText } from "../../lib/schemas/common.ts";
import { readParam } from "../http/body.ts";
import type { AppEnv } from "../http/types.ts";
import type { Services } from "../services.ts";
import { gunzip, type TranscriptStore, TranscriptTooLarge } from "../transcripts.ts";
import { getSession, listSessions, storedTranscriptOf } from "../store/sessions.ts";

const sessionId = z.string().regex(
  /^[A-Za-z0-9_-]{1,200}$/,
  "expected a session id (letters, digits, - and _)",
);
const limitParam = z.string().regex(/^\d{1,4}$/, "expected a whole number up to 9999").transform(Number)
  .optional();
export const MAX_TRANSCRIPT_BYTES = 256 * 1024 * 1024;

export function sessionRoutes(s: Services, store: TranscriptStore): Hono<AppEnv> {
  const app = new Hono<AppEnv>();
  app.get("/", async (c) => {
    const project = c.req.query("project") ? readParam("project", c.req.query("project"), projectName) : null;
    const limit = readParam("limit", c.req.query("limit"), limitParam) ?? 100;
    return c.json({ sessions: await listSessions(s.db, project, limit) });
  });
  app.get("/:id", async (c) => {
    const id = readParam("session id", c.req.param("id"), sessionId);
    return c.json(await getSession(s.db, id));
  });
  app.get("/:id/transcript", async (c) => {
    const id = readParam("session id", c.req.param("id"), sessionId);
    const location = await storedTranscriptOf(s.db, id);
    if (!location) {
      throw new AppError(
        "not_found",
        `session ${id} has no stored transcript (it is kept when a session ends)`,
      );
    }
    const gz = await store.get(location);
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
