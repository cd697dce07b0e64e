/**
 * Heartbeat ingestion with group commit: heartbeats that arrive while a write is in flight are folded into
 * the next one, so one UPDATE … FROM jsonb_to_recordset() records hundreds of runners at once. At low load
 * every heartbeat is written at once; under load the batches grow instead of the queue.
 */
import type { Db } from "../lib/db/types.ts";
import type { HeartbeatRequest, RunnerState } from "../lib/schemas/runner.ts";
import { ACTIVE_SQL } from "./store/runners.ts";

export interface HeartbeatResult {
  /** The runner's state after the heartbeat; not active means the heartbeat was refused. */
  state: RunnerState;
  stopRequested: boolean;
  accepted: boolean;
  reason: string | null;
  /** The signature time was not newer than the last accepted one (kept in agent_tokens, any daemon). */
  replayed: boolean;
}

interface Pending {
  id: number;
  hb: HeartbeatRequest;
  /** The heartbeat's signature time (ms). */
  signedMs: number;
  resolve: (r: HeartbeatResult | undefined) => void;
  reject: (e: unknown) => void;
}

// The signature time is recorded in the same statement, and only when newer than the last one: a replayed
// heartbeat (captured before a restart, or sent to another daemon) changes nothing and is reported as such.
// "id = ANY($2)" steers the planner to the primary key: joining the function's rows alone makes it scan
// every active runner per batch, which at 10,000 runners costs more than the whole heartbeat.
const FLUSH_SQL = `
WITH hb AS (
  SELECT * FROM jsonb_to_recordset($1::jsonb)
    AS x(id bigint, pid int, cpu real, rss bigint, sid text, ti bigint, tout bigint, tcc bigint, tcr bigint,
         sig bigint)
),
fresh AS (
  UPDATE agent_tokens t SET last_signed_ms = hb.sig
  FROM hb
  WHERE t.runner_id = ANY($2::bigint[]) AND t.runner_id = hb.id AND t.last_signed_ms < hb.sig
  RETURNING t.runner_id
),
upd AS (
  UPDATE runners r SET
    last_heartbeat_at = now(),
    heartbeat_count = r.heartbeat_count + 1,
    pid = coalesce(hb.pid, r.pid),
    cpu_percent = hb.cpu,
    rss_bytes = hb.rss,
    session_id = coalesce(hb.sid, r.session_id),
    tokens_input = greatest(r.tokens_input, coalesce(hb.ti, 0)),
    tokens_output = greatest(r.tokens_output, coalesce(hb.tout, 0)),
    tokens_cache_creation = greatest(r.tokens_cache_creation, coalesce(hb.tcc, 0)),
    tokens_cache_read = greatest(r.tokens_cache_read, coalesce(hb.tcr, 0)),
    updated_at = now()
  FROM hb
  WHERE r.id = ANY($2::bigint[]) AND r.id = hb.id AND r.state IN ${ACTIVE_SQL}
    AND r.id IN (SELECT runner_id FROM fresh)
  RETURNING r.id, r.state, r.stop_requested_at IS NOT NULL AS stop
)
SELECT hb.id, coalesce(upd.state, r.state) AS state, coalesce(upd.stop, false) AS stop,
       upd.id IS NOT NULL AS accepted, r.reason, hb.id NOT IN (SELECT runner_id FROM fresh) AS replayed
FROM hb LEFT JOIN upd ON upd.id = hb.id LEFT JOIN runners r ON r.id = ANY($2::bigint[]) AND r.id = hb.id`;

export interface BatcherOptions {
  maxBatch?: number;
  /** Concurrent flushes (PostgreSQL has a pool; PGlite has one connection). */
  maxInFlight?: number;
  /** Called after each flush with its size and duration, for metrics. */
  onFlush?: (size: number, ms: number) => void;
  /**
   * Wait a macrotask before writing so pending requests are parsed into the same batch. PGlite runs in
   * this thread: without the pause each write blocks the event loop and every batch holds one heartbeat.
   */
  gather?: boolean;
}

export class HeartbeatBatcher {
  #db: Db;
  #queue: Pending[] = [];
  #inFlight = 0;
  #maxBatch: number;
  #maxInFlight: number;
  #onFlush?: (size: number, ms: number) => void;
  #gather: boolean;
  #scheduled = false;
  /** The last signature time accepted per runner in this daemon (the database keeps it across daemons). */
  #lastSigned = new Map<number, number>();

  constructor(db: Db, opts: BatcherOptions = {}) {
    this.#db = db;
    this.#maxBatch = opts.maxBatch ?? 500;
    this.#maxInFlight = opts.maxInFlight ?? (db.kind === "postgres" ? 4 : 1);
    this.#onFlush = opts.onFlush;
    this.#gather = opts.gather ?? db.kind === "embedded";
  }

  /** Whether a heartbeat signed at `signedMs` is newer than the last one this daemon took (and takes it). */
  claimSigned(id: number, signedMs: number): boolean {
    if ((this.#lastSigned.get(id) ?? 0) >= signedMs) return false;
    if (this.#lastSigned.size > 100_000) this.#lastSigned.clear();
    this.#lastSigned.set(id, signedMs);
    return true;
  }

  /** Records a heartbeat; resolves to undefined when no such runner exists. */
  submit(id: number, hb: HeartbeatRequest, signedMs: number): Promise<HeartbeatResult | undefined> {
    return new Promise((resolve, reject) => {
      this.#queue.push({ id, hb, signedMs, resolve, reject });
      this.#schedule();
    });
  }

  #schedule(): void {
    if (!this.#gather) return this.#pump();
    if (this.#scheduled) return;
    this.#scheduled = true;
    setTimeout(() => {
      this.#scheduled = false;
      this.#pump();
    }, 0);
  }

  #pump(): void {
    while (this.#inFlight < this.#maxInFlight && this.#queue.length > 0) {
      // A runner appears once per batch: a second heartbeat from it waits for the next batch.
      const batch: Pending[] = [];
      const seen = new Set<number>();
      const rest: Pending[] = [];
      for (const p of this.#queue) {
        if (batch.length < this.#maxBatch && !seen.has(p.id)) {
          seen.add(p.id);
          batch.push(p);
        } else rest.push(p);
      }
      this.#queue = rest;
      this.#inFlight++;
      this.#flush(batch).finally(() => {
        this.#inFlight--;
        this.#schedule();
      });
    }
  }

  async #flush(batch: Pending[]): Promise<void> {
    const started = performance.now();
    const rows = batch.map(({ id, hb, signedMs }) => ({
      id,
      pid: hb.pid ?? null,
      cpu: hb.cpuPercent ?? null,
      rss: hb.rssBytes ?? null,
      sid: hb.sessionId ?? null,
      ti: hb.tokens?.input ?? null,
      tout: hb.tokens?.output ?? null,
      tcc: hb.tokens?.cacheCreation ?? null,
      tcr: hb.tokens?.cacheRead ?? null,
      sig: signedMs,
    }));
    try {
      const result = await this.#db.query<
        {
          id: number;
          state: RunnerState | null;
          stop: boolean;
          accepted: boolean;
          reason: string | null;
          replayed: boolean;
        }
      >(FLUSH_SQL, [rows, batch.map((p) => p.id)]);
      const byId = new Map(result.map((r) => [r.id, r]));
      for (const p of batch) {
        const r = byId.get(p.id);
        p.resolve(
          r && r.state
            ? {
              state: r.state,
              stopRequested: r.stop,
              accepted: r.accepted,
              reason: r.reason,
              replayed: r.replayed,
            }
            : undefined,
        );
      }
    } catch (e) {
      // One row the database refuses must not fail the other runners' heartbeats: write each on its own.
      if (batch.length > 1) {
        for (const p of batch) await this.#flush([p]);
        return;
      }
      for (const p of batch) p.reject(e);
    } finally {
      this.#onFlush?.(batch.length, performance.now() - started);
    }
  }

  /** Waits until every submitted heartbeat is written (for shutdown). */
  async drain(): Promise<void> {
    while (this.#queue.length > 0 || this.#inFlight > 0) await new Promise((r) => setTimeout(r, 5));
  }
}
