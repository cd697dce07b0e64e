/**
 * The outbox as a queue: claim a batch, then settle each row (published, retried later, dead-lettered,
 * or released untouched). Claims hold a lease (claimed_by/claimed_until) rather than a transaction, so a
 * slow broker never keeps a database connection busy, and a dead relay's rows come free when it expires.
 */
import type { Db, Queryable } from "../../lib/db/types.ts";
import { type DeadEvent, EVENT_VERSION, type EventEnvelope } from "../../lib/schemas/event.ts";
import { emit, OUTBOX_CHANNEL } from "../store/outbox.ts";

export const PUBLISHED_CHANNEL = "stratavore_published";
/** Serialises claims (so per-key order holds across relays) and marks (so published_seq commits in order). */
const CLAIM_LOCK = 0x73766331; // "svc1"
const MARK_LOCK = 0x73766d31; // "svm1"

export interface OutboxRow {
  id: number;
  type: string;
  entity_id: string;
  project: string | null;
  ordering_key: string;
  payload: Record<string, unknown>;
  created_at: Date;
  attempts: number;
  published_seq: number | null;
}

export function toEnvelope(r: OutboxRow): EventEnvelope {
  return {
    version: EVENT_VERSION,
    id: r.id,
    seq: r.published_seq,
    type: r.type,
    occurredAt: r.created_at.toISOString(),
    entityId: r.entity_id,
    project: r.project,
    payload: r.payload,
  };
}

const COLUMNS = "id, type, entity_id, project, ordering_key, payload, created_at, attempts, published_seq";

/**
 * Leases are measured with clock_timestamp(), not now(): now() is when the transaction began, and a claim
 * may wait on the claim lock for a while, which would hand out leases that are already half spent.
 *
 * Claims up to `limit` due rows in id order. A row is skipped while an earlier row with the same ordering
 * key is still leased or waiting for a retry, so events of one runner leave in the order they were
 * committed, even with several relays.
 */
export async function claimBatch(
  db: Db,
  owner: string,
  limit: number,
  leaseMs: number,
): Promise<OutboxRow[]> {
  return await db.transaction(async (tx) => {
    await tx.query("SELECT pg_advisory_xact_lock($1::bigint)", [CLAIM_LOCK]);
    return await tx.query<OutboxRow>(
      `WITH ready AS (
         SELECT o.id FROM outbox o
         WHERE o.published_at IS NULL AND o.dead_at IS NULL AND o.next_attempt_at <= now()
           AND (o.claimed_until IS NULL OR o.claimed_until < clock_timestamp())
           AND NOT EXISTS (
             SELECT 1 FROM outbox e
             WHERE e.ordering_key = o.ordering_key AND e.id < o.id
               AND e.published_at IS NULL AND e.dead_at IS NULL
               AND (e.next_attempt_at > now() OR e.claimed_until >= clock_timestamp()))
         ORDER BY o.id
         LIMIT $1
         FOR UPDATE SKIP LOCKED)
       UPDATE outbox SET claimed_by = $2, claimed_until = clock_timestamp() + ($3 * interval '1 millisecond'),
         attempts = attempts + 1
       WHERE id IN (SELECT id FROM ready)
       RETURNING ${COLUMNS}`,
      [limit, owner, leaseMs],
    ).then((rows) => rows.sort((a, b) => a.id - b.id));
  });
}

/**
 * Marks rows published, numbering them in id order, and runs `inTx` (notifications) in the same
 * transaction; wakes every daemon's event stream.
 */
export async function markPublished(
  db: Db,
  ids: number[],
  inTx?: (tx: Queryable) => Promise<void>,
): Promise<number | undefined> {
  if (ids.length === 0) return undefined;
  return await db.transaction(async (tx) => {
    await tx.query("SELECT pg_advisory_xact_lock($1::bigint)", [MARK_LOCK]);
    const rows = await tx.query<{ seq: number }>(
      `UPDATE outbox o SET published_at = now(), published_seq = s.seq, claimed_until = NULL, last_error = NULL
       FROM (SELECT id, nextval('outbox_published_seq') AS seq
             FROM (SELECT id FROM outbox WHERE id = ANY($1::bigint[]) AND published_at IS NULL ORDER BY id) x) s
       WHERE o.id = s.id
       RETURNING s.seq`,
      [ids],
    );
    await inTx?.(tx);
    const max = rows.reduce((m, r) => Math.max(m, r.seq), 0);
    if (max > 0) await tx.query(`SELECT pg_notify('${PUBLISHED_CHANNEL}', $1)`, [String(max)]);
    return max || undefined;
  });
}

/** Extends the lease of rows still being published (a slow broker must not let another relay take them). */
export async function extendLease(db: Db, owner: string, ids: number[], leaseMs: number): Promise<void> {
  await db.query(
    `UPDATE outbox SET claimed_until = clock_timestamp() + ($3 * interval '1 millisecond')
     WHERE id = ANY($1::bigint[]) AND claimed_by = $2 AND published_at IS NULL`,
    [ids, owner, leaseMs],
  );
}

/** Gives rows back without counting the attempt (the broker was unreachable, or an earlier row failed). */
export async function release(db: Db, ids: number[]): Promise<void> {
  if (ids.length === 0) return;
  await db.query(
    `UPDATE outbox SET claimed_until = NULL, attempts = greatest(attempts - 1, 0)
     WHERE id = ANY($1::bigint[]) AND published_at IS NULL`,
    [ids],
  );
}

/** Capped exponential backoff with jitter: base, 2×base, 4×base … up to 5 minutes. */
export function retryDelay(attempts: number, baseMs: number): number {
  const exp = Math.min(baseMs * 2 ** Math.max(0, attempts - 1), 300_000);
  return Math.round(exp * (0.75 + Math.random() * 0.5));
}

/**
 * A row the broker refused: retried after a backoff, or dead-lettered after maxAttempts (kept, counted,
 * announced by an event.dead_lettered event).
 */
export async function fail(
  db: Db,
  row: OutboxRow,
  error: string,
  opts: { maxAttempts: number; retryBaseMs: number },
): Promise<"retry" | "dead"> {
  if (row.attempts >= opts.maxAttempts) {
    await db.transaction(async (tx) => {
      await tx.query(
        "UPDATE outbox SET dead_at = now(), claimed_until = NULL, last_error = $2 WHERE id = $1",
        [row.id, error],
      );
      if (row.type !== "event.dead_lettered") {
        await emit(tx, {
          type: "event.dead_lettered",
          entityId: row.id,
          project: row.project,
          orderingKey: `event:${row.id}`,
          payload: { eventId: row.id, eventType: row.type, attempts: row.attempts, error },
        });
      }
    });
    return "dead";
  }
  await db.query(
    `UPDATE outbox SET claimed_until = NULL, last_error = $2,
       next_attempt_at = now() + ($3 * interval '1 millisecond') WHERE id = $1`,
    [row.id, error, retryDelay(row.attempts, opts.retryBaseMs)],
  );
  return "retry";
}

/** After a restart, this daemon's own leases are released at once instead of waiting for them to expire. */
export async function releaseOwn(db: Db, owner: string): Promise<number> {
  const rows = await db.query<{ id: number }>(
    `UPDATE outbox SET claimed_until = NULL, attempts = greatest(attempts - 1, 0)
     WHERE claimed_by = $1 AND published_at IS NULL AND dead_at IS NULL AND claimed_until IS NOT NULL
     RETURNING id`,
    [owner],
  );
  return rows.length;
}

/**
 * Milliseconds until the earliest pending row becomes claimable (its retry is due and no lease holds it),
 * 0 when one already is, undefined when nothing is pending: the relay sleeps that long instead of polling.
 * Only the first pending row of each ordering key counts (the rows behind it wait for it).
 */
export async function nextDueIn(q: Queryable): Promise<number | undefined> {
  const [r] = await q.query<{ ms: number | null }>(
    `SELECT (extract(epoch FROM min(greatest(o.next_attempt_at, coalesce(o.claimed_until, o.next_attempt_at)))
       - clock_timestamp()) * 1000)::float8 AS ms
     FROM outbox o
     WHERE o.published_at IS NULL AND o.dead_at IS NULL
       AND NOT EXISTS (
         SELECT 1 FROM outbox e
         WHERE e.ordering_key = o.ordering_key AND e.id < o.id AND e.published_at IS NULL AND e.dead_at IS NULL)`,
  );
  return r.ms === null ? undefined : Math.max(0, r.ms);
}

/** Deletes published rows older than the retention, a bounded batch at a time. */
export async function prunePublished(db: Db, retentionMs: number, batch = 5000): Promise<number> {
  let total = 0;
  for (;;) {
    const rows = await db.query<{ id: number }>(
      `DELETE FROM outbox WHERE id IN (
         SELECT id FROM outbox WHERE published_at < now() - ($1 * interval '1 millisecond') LIMIT $2)
       RETURNING id`,
      [retentionMs, batch],
    );
    total += rows.length;
    if (rows.length < batch) return total;
  }
}

export async function publishedSince(q: Queryable, afterSeq: number, limit: number): Promise<OutboxRow[]> {
  return await q.query<OutboxRow>(
    `SELECT ${COLUMNS} FROM outbox WHERE published_seq > $1 ORDER BY published_seq LIMIT $2`,
    [afterSeq, limit],
  );
}

export async function lastPublishedSeq(q: Queryable): Promise<number> {
  const [r] = await q.query<{ seq: number | null }>("SELECT max(published_seq) AS seq FROM outbox");
  return r.seq ?? 0;
}

/** The latest published events, oldest first, of the types matching any LIKE pattern (all without any). */
export async function recentPublished(q: Queryable, limit: number, patterns: string[]): Promise<OutboxRow[]> {
  const rows = await q.query<OutboxRow>(
    `SELECT id, type, entity_id, project, ordering_key, payload, created_at, attempts, published_seq FROM outbox
     WHERE published_seq IS NOT NULL AND (cardinality($2::text[]) = 0 OR type LIKE ANY($2::text[]))
     ORDER BY published_seq DESC LIMIT $1`,
    [limit, patterns],
  );
  return rows.reverse();
}

/** Dead letters, newest first, and how many there are. */
export async function deadEvents(
  q: Queryable,
  limit: number,
): Promise<{ events: DeadEvent[]; total: number }> {
  // List and count in one statement (the window counts before LIMIT), so they always agree.
  const rows = await q.query<
    {
      id: number;
      type: string;
      entity_id: string;
      project: string | null;
      attempts: number;
      last_error: string | null;
      created_at: Date;
      dead_at: Date;
      total: number;
    }
  >(
    `SELECT id, type, entity_id, project, attempts, last_error, created_at, dead_at,
            count(*) OVER ()::int AS total
     FROM outbox WHERE dead_at IS NOT NULL ORDER BY dead_at DESC, id DESC LIMIT $1`,
    [limit],
  );
  const total = limit > 0
    ? rows[0]?.total ?? 0
    : (await q.query<{ n: number }>("SELECT count(*)::int AS n FROM outbox WHERE dead_at IS NOT NULL"))[0].n;
  const events = rows.map((r) => ({
    id: r.id,
    type: r.type,
    entityId: r.entity_id,
    project: r.project,
    attempts: r.attempts,
    lastError: r.last_error,
    createdAt: r.created_at.toISOString(),
    deadAt: r.dead_at.toISOString(),
  }));
  return { events, total };
}

/** Puts dead letters (one, or all) back in the queue and wakes the relays; the ids requeued. */
export async function requeueDead(db: Db, id?: number): Promise<number[]> {
  return await db.transaction(async (tx) => {
    const rows = await tx.query<{ id: number }>(
      `UPDATE outbox SET dead_at = NULL, attempts = 0, next_attempt_at = now(), claimed_until = NULL
       WHERE dead_at IS NOT NULL AND ($1::bigint IS NULL OR id = $1) RETURNING id`,
      [id ?? null],
    );
    if (rows.length) await tx.query(`SELECT pg_notify('${OUTBOX_CHANNEL}', '')`);
    return rows.map((r) => r.id).sort((a, b) => a - b);
  });
}
