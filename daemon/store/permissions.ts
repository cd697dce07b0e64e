/**
 * Permission requests: a Claude session's tool call waiting for its user (Claude Code's PermissionRequest
 * hook). Opened when the hook arrives, answered at most once: from the API, the CLI, the web page or
 * Telegram (projects with `approvals: remote`), or in the terminal (seen from the session's next hooks), or
 * expired when the remote wait ends. Every change is an event; remote answers are audited.
 */
import type { Queryable } from "../../lib/db/types.ts";
import { AppError } from "../../lib/errors.ts";
import type { HookInput } from "../../lib/schemas/hook_input.ts";
import type { PermissionAnswer, PermissionRequest } from "../../lib/schemas/runner.ts";
import { emit } from "./outbox.ts";

/** Answers are announced on this channel so the daemon holding the hook request hears of them at once. */
export const PERMISSION_CHANNEL = "stratavore_permission";

/** A tool input kept for display: large values (a whole file to write) are cut. */
const MAX_INPUT_CHARS = 8000;

interface RequestRow {
  id: number;
  runner_id: number;
  project: string;
  session_id: string;
  tool_name: string;
  tool_input: unknown;
  summary: string;
  remote: boolean;
  status: PermissionRequest["status"];
  requested_at: Date;
  expires_at: Date;
  answered_at: Date | null;
  answered_by: string | null;
  channel: string | null;
  message: string | null;
}

const SELECT = `SELECT q.*, p.name AS project FROM permission_requests q
  JOIN runners r ON r.id = q.runner_id JOIN projects p ON p.id = r.project_id`;

export function toPermissionRequest(r: RequestRow): PermissionRequest {
  return {
    id: r.id,
    runnerId: r.runner_id,
    project: r.project,
    sessionId: r.session_id,
    tool: r.tool_name,
    summary: r.summary,
    input: r.tool_input,
    remote: r.remote,
    status: r.status,
    requestedAt: r.requested_at.toISOString(),
    expiresAt: r.expires_at.toISOString(),
    answeredAt: r.answered_at?.toISOString() ?? null,
    answeredBy: r.answered_by,
    channel: r.channel,
    message: r.message,
  };
}

/** One line saying what the tool would do: the command, the file, the URL, the question. */
export function summarizeTool(tool: string, input: unknown): string {
  const i = (input && typeof input === "object" ? input : {}) as Record<string, unknown>;
  const pick = ["command", "file_path", "notebook_path", "url", "path", "pattern", "query", "prompt"]
    .map((k) => i[k])
    .find((v) => typeof v === "string" && v !== "") as string | undefined;
  const text = pick ?? (Object.keys(i).length ? JSON.stringify(i) : "");
  const line = `${tool}${text ? `: ${text}` : ""}`.replace(/\s+/g, " ").trim();
  return line.length > 300 ? line.slice(0, 299) + "…" : line;
}

function boundedInput(input: unknown): unknown {
  const text = JSON.stringify(input ?? {});
  if (text.length <= MAX_INPUT_CHARS) return input ?? {};
  return { truncated: true, preview: text.slice(0, MAX_INPUT_CHARS) };
}

export async function getPermissionRequest(q: Queryable, id: number): Promise<PermissionRequest | undefined> {
  const [row] = await q.query<RequestRow>(`${SELECT} WHERE q.id = $1`, [id]);
  return row && toPermissionRequest(row);
}

/** The pending requests of these runners, oldest first per runner (one is shown: the first). */
export async function pendingPermissions(
  q: Queryable,
  runnerIds: number[],
): Promise<Map<number, PermissionRequest>> {
  if (runnerIds.length === 0) return new Map();
  const rows = await q.query<RequestRow>(
    `${SELECT} WHERE q.runner_id = ANY($1::bigint[]) AND q.status = 'pending' ORDER BY q.id`,
    [runnerIds],
  );
  const out = new Map<number, PermissionRequest>();
  for (const r of rows) if (!out.has(r.runner_id)) out.set(r.runner_id, toPermissionRequest(r));
  return out;
}

/** Recent requests of a runner, newest first. */
export async function listPermissions(
  q: Queryable,
  runnerId: number,
  limit = 20,
): Promise<PermissionRequest[]> {
  const rows = await q.query<RequestRow>(`${SELECT} WHERE q.runner_id = $1 ORDER BY q.id DESC LIMIT $2`, [
    runnerId,
    limit,
  ]);
  return rows.map(toPermissionRequest);
}

export interface OpenOptions {
  remote: boolean;
  timeoutSeconds: number;
  daemonId: string;
}

export async function openPermissionRequest(
  tx: Queryable,
  runnerId: number,
  input: HookInput,
  o: OpenOptions,
): Promise<PermissionRequest> {
  const tool = (input.tool_name ?? "tool").slice(0, 200);
  const [{ id }] = await tx.query<{ id: number }>(
    `INSERT INTO permission_requests (runner_id, session_id, tool_name, tool_input, summary, remote, expires_at,
       daemon_id)
     VALUES ($1, $2, $3, $4::jsonb, $5, $6, now() + $7 * interval '1 second', $8) RETURNING id`,
    [
      runnerId,
      input.session_id,
      tool,
      boundedInput(input.tool_input),
      summarizeTool(tool, input.tool_input),
      o.remote,
      o.timeoutSeconds,
      o.daemonId,
    ],
  );
  const request = (await getPermissionRequest(tx, id))!;
  await emit(tx, {
    type: "runner.permission_requested",
    entityId: runnerId,
    project: request.project,
    payload: { request },
  });
  return request;
}

export interface Answerer {
  /** admin, telegram:<user>, … */
  by: string;
  channel: PermissionRequest["channel"] & string;
}

/**
 * Answers a pending request from elsewhere than the terminal: exactly once (the row is claimed by its
 * status), only where the project allows remote answers. Announces it for the daemon holding the hook.
 */
export async function answerPermission(
  tx: Queryable,
  runnerId: number,
  answer: PermissionAnswer,
  who: Answerer,
): Promise<PermissionRequest> {
  const [pending] = await tx.query<RequestRow>(
    `${SELECT} WHERE q.runner_id = $1 AND ($2::bigint IS NULL OR q.id = $2)
     ORDER BY (q.status = 'pending') DESC, q.id DESC LIMIT 1 FOR UPDATE OF q`,
    [runnerId, answer.requestId ?? null],
  );
  if (!pending) {
    throw new AppError(
      "not_found",
      answer.requestId
        ? `runner ${runnerId} has no permission request ${answer.requestId}`
        : `runner ${runnerId} has no permission request waiting`,
    );
  }
  if (pending.status !== "pending") {
    const how = pending.status === "answered_in_terminal"
      ? "was answered in the terminal"
      : pending.status === "expired"
      ? "expired (the remote wait ended; the terminal can still answer it)"
      : `was already ${pending.status} (${pending.channel ?? "?"}, ${pending.answered_by ?? "?"})`;
    throw new AppError("conflict", `permission request ${pending.id} of runner ${runnerId} ${how}`, {
      details: { request: toPermissionRequest(pending) },
    });
  }
  if (!pending.remote) {
    throw new AppError(
      "forbidden",
      `project "${pending.project}" takes permission answers in the terminal only: allow remote answers with ` +
        `"stratavore project set ${pending.project} --approvals remote"`,
    );
  }
  const status = answer.decision === "allow" ? "allowed" : "denied";
  await tx.query(
    `UPDATE permission_requests SET status = $2, answered_at = now(), answered_by = $3, channel = $4, message = $5
     WHERE id = $1`,
    [pending.id, status, who.by, who.channel, answer.message ?? null],
  );
  const request = (await getPermissionRequest(tx, pending.id))!;
  await emit(tx, {
    type: "runner.permission_answered",
    entityId: runnerId,
    project: request.project,
    payload: { request },
  });
  await tx.query(`SELECT pg_notify('${PERMISSION_CHANNEL}', $1)`, [String(pending.id)]);
  return request;
}

/**
 * The session went on (a tool ran or was refused, the turn ended, a new prompt came): its pending requests
 * were answered in the terminal. They disappear everywhere.
 */
export async function settleInTerminal(
  tx: Queryable,
  runnerId: number,
  onlyId?: number,
): Promise<PermissionRequest[]> {
  const rows = await tx.query<{ id: number }>(
    `UPDATE permission_requests SET status = 'answered_in_terminal', answered_at = now(), answered_by = 'terminal',
       channel = 'terminal'
     WHERE runner_id = $1 AND status = 'pending' AND ($2::bigint IS NULL OR id = $2) RETURNING id`,
    [runnerId, onlyId ?? null],
  );
  const out: PermissionRequest[] = [];
  for (const { id } of rows) {
    const request = (await getPermissionRequest(tx, id))!;
    await emit(tx, {
      type: "runner.permission_answered",
      entityId: runnerId,
      project: request.project,
      payload: { request },
    });
    await tx.query(`SELECT pg_notify('${PERMISSION_CHANNEL}', $1)`, [String(id)]);
    out.push(request);
  }
  return out;
}

/** The remote wait ended without an answer: the request stays the terminal's to answer. */
export async function expirePermission(tx: Queryable, id: number): Promise<PermissionRequest | undefined> {
  const rows = await tx.query<{ runner_id: number }>(
    `UPDATE permission_requests SET status = 'expired', answered_at = now() WHERE id = $1 AND status = 'pending'
     RETURNING runner_id`,
    [id],
  );
  if (rows.length === 0) return undefined;
  const request = (await getPermissionRequest(tx, id))!;
  await emit(tx, {
    type: "runner.permission_answered",
    entityId: rows[0].runner_id,
    project: request.project,
    payload: { request },
  });
  return request;
}
