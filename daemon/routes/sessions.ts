/** /api/v1/sessions (admin) and the agent's transcript upload, /api/v1/runners/:id/transcript. */
import { z } from "zod";
import { AppError } from "../../lib/errors.ts";
import { projectName, runnerIdText } from "../../lib/schemas/common.ts";
import { readParam } from "../http/body.ts";
import { type Route, Routes } from "../http/route.ts";
import type { Services } from "../services.ts";
import { gunzip, type TranscriptStore, TranscriptTooLarge } from "../transcripts.ts";
import {
  getSession,
  listSessions,
  recordTranscript,
  storedTranscriptOf,
  transcriptUploadCheck,
} from "../store/sessions.ts";

const sessionId = z.string().regex(
  /^[A-Za-z0-9_-]{1,200}$/,
  "expected a session id (letters, digits, - and _)",
);
const limitParam = z.string().regex(/^\d{1,4}$/, "expected a whole number up to 9999").transform(Number)
  .optional();
export const MAX_TRANSCRIPT_BYTES = 256 * 1024 * 1024;

export function sessionRoutes(s: Services, store: TranscriptStore): Route[] {
  const app = new Routes("/sessions");
  app.get("/", { auth: "admin" }, async (c) => {
    const project = c.req.query("project") ? readParam("project", c.req.query("project"), projectName) : null;
    const limit = readParam("limit", c.req.query("limit"), limitParam) ?? 100;
    return c.json({ sessions: await listSessions(s.db, project, limit) });
  });
  app.get("/:id", { auth: "admin" }, async (c) => {
    const id = readParam("session id", c.req.param("id"), sessionId);
    return c.json(await getSession(s.db, id));
  });
  app.get("/:id/transcript", { auth: "admin" }, async (c) => {
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
  return app.list;
}

/** PUT /api/v1/runners/:id/transcript?session=<id>: the agent uploads a finished session's transcript (gzip). */
export function transcriptUploadRoute(s: Services, store: TranscriptStore): Route[] {
  const app = new Routes("/runners");
  app.put("/:id/transcript", { auth: "runner" }, async (c) => {
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
    const row = await transcriptUploadCheck(s.db, runnerId, sid);
    if (!row) throw new AppError("not_found", `no runner ${runnerId}`);
    if (!row.sessionOk) {
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
    await recordTranscript(s.db, sid, { store: store.kind, ...stored });
    return c.json({
      session: sid,
      bytes: stored.bytes,
      storedBytes: stored.storedBytes,
      sha256: stored.sha256,
      lines: stored.lines,
    });
  });
  return app.list;
}
