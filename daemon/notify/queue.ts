/**
 * The `notifications` table as a queue. Rows are queued in the relay's transaction (exactly once per event
 * and chat); senders claim due rows of one chat under a lease, so a slow or dead Telegram never holds a
 * transaction, and rows claimed by a daemon that died come free when the lease runs out.
 */
import type { Db, Queryable } from "../../lib/db/types.ts";
import type { Button, Priority } from "./format.ts";

export const NOTIFY_CHANNEL = "stratavore_notify";

export interface QueuedNotification {
  eventId: number | null;
  chatId: string;
  priority: Priority;
  text: string;
  buttons?: Button[];
}

export interface NotificationRow {
  id: number;
  event_id: number | null;
  priority: Priority;
  text: string;
  attempts: number;
  buttons: Button[] | null;
}

/** Queues notifications in the caller's transaction; an event already queued for a chat is skipped. */
export async function enqueue(tx: Queryable, rows: QueuedNotification[]): Promise<number> {
  if (rows.length === 0) return 0;
  const inserted = await tx.query<{ id: number }>(
    `INSERT INTO notifications (event_id, chat_id, priority, text, buttons)
     SELECT e, c, p, t, b FROM jsonb_to_recordset($1::jsonb) AS x(e bigint, c text, p text, t text, b jsonb)
     ON CONFLICT (event_id, chat_id) DO NOTHING
     RETURNING id`,
    [rows.map((r) => ({ e: r.eventId, c: r.chatId, p: r.priority, t: r.text, b: r.buttons ?? null }))],
  );
  if (inserted.length) await tx.query(`SELECT pg_notify('${NOTIFY_CHANNEL}', '')`);
  return inserted.length;
}

export interface ClaimOptions {
  /** More due rows than this are sent as one digest. */
  digestAt: number;
  /** At most this many rows in one digest. */
  digestMax: number;
  leaseMs: number;
  /** No claim while a message went to this chat less than this long ago (several daemons). */
  minGapMs: number;
}

const PENDING = "chat_id = $1 AND sent_at IS NULL AND failed_at IS NULL";

/**
 * Claims the next message's worth of a chat's due rows: the oldest one, or up to digestMax when more than
 * digestAt are due. Nothing is claimed (undefined) while another sender holds rows of the chat or a
 * message went to it within minGapMs, so with several daemons one chat still gets one message at a time.
 */
export async function claimDue(
  db: Db,
  chatId: string,
  o: ClaimOptions,
): Promise<NotificationRow[] | undefined> {
  return await db.transaction(async (tx) => {
    await tx.query("SELECT pg_advisory_xact_lock(hashtext('stratavore:notify:' || $1))", [chatId]);
    const [busy] = await tx.query<{ busy: boolean }>(
      `SELECT EXISTS (SELECT 1 FROM notifications WHERE ${PENDING} AND claimed_until >= clock_timestamp())
           OR EXISTS (SELECT 1 FROM (SELECT sent_at FROM notifications WHERE chat_id = $1
                                     ORDER BY id DESC LIMIT 50) recent
                      WHERE sent_at > clock_timestamp() - ($2 * interval '1 millisecond')) AS busy`,
      [chatId, o.minGapMs],
    );
    if (busy.busy) return undefined;
    const [{ n }] = await tx.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM notifications WHERE ${PENDING} AND next_attempt_at <= now()`,
      [chatId],
    );
    if (n === 0) return [];
    return await tx.query<NotificationRow>(
      `UPDATE notifications SET claimed_until = clock_timestamp() + ($3 * interval '1 millisecond')
       WHERE id IN (SELECT id FROM notifications WHERE ${PENDING} AND next_attempt_at <= now()
                    ORDER BY id LIMIT $2 FOR UPDATE SKIP LOCKED)
       RETURNING id, event_id, priority, text, attempts, buttons`,
      [chatId, n > o.digestAt ? o.digestMax : 1, o.leaseMs],
    ).then((rows) => rows.sort((a, b) => a.id - b.id));
  });
}

export async function markSent(db: Db, ids: number[]): Promise<void> {
  await db.query(
    `UPDATE notifications SET sent_at = now(), attempts = attempts + 1, claimed_until = NULL, last_error = NULL
     WHERE id = ANY($1::bigint[])`,
    [ids],
  );
}

/**
 * A failed attempt: retried after `delayMs`, or marked failed (kept, counted) once it has had maxAttempts,
 * or at once when `permanent`. Returns the ids that are now failed for good.
 */
export async function markFailedAttempt(
  db: Db,
  ids: number[],
  error: string,
  opts: { delayMs: number; maxAttempts: number; permanent?: boolean },
): Promise<number[]> {
  const rows = await db.query<{ id: number; failed: boolean }>(
    `UPDATE notifications SET attempts = attempts + 1, claimed_until = NULL, last_error = $2,
       next_attempt_at = now() + ($3 * interval '1 millisecond'),
       failed_at = CASE WHEN $5::boolean OR attempts + 1 >= $4 THEN now() END
     WHERE id = ANY($1::bigint[])
     RETURNING id, failed_at IS NOT NULL AS failed`,
    [ids, error, opts.delayMs, opts.maxAttempts, opts.permanent ?? false],
  );
  return rows.filter((r) => r.failed).map((r) => r.id);
}

/** Telegram asked to wait (429 retry_after): not a failed attempt, just later. */
export async function postpone(db: Db, ids: number[], error: string, delayMs: number): Promise<void> {
  await db.query(
    `UPDATE notifications SET claimed_until = NULL, last_error = $2,
       next_attempt_at = now() + ($3 * interval '1 millisecond')
     WHERE id = ANY($1::bigint[])`,
    [ids, error, delayMs],
  );
}

/** Gives claimed rows back untouched (a digest that did not fit, or a shutdown mid-send). */
export async function releaseClaims(db: Db, ids: number[]): Promise<void> {
  if (ids.length === 0) return;
  await db.query("UPDATE notifications SET claimed_until = NULL WHERE id = ANY($1::bigint[])", [ids]);
}

/** Milliseconds until the chat's next row is due (0 when one is due now), or undefined when none waits. */
export async function nextDueIn(db: Db, chatId: string): Promise<number | undefined> {
  const [r] = await db.query<{ ms: number | null }>(
    `SELECT greatest(0, extract(epoch FROM min(next_attempt_at) - now()) * 1000)::float8 AS ms
     FROM notifications WHERE ${PENDING}`,
    [chatId],
  );
  return r.ms === null ? undefined : r.ms;
}
