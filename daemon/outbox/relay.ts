/**
 * The outbox relay: claim → publish (with confirms) → settle, repeated while there is work. It wakes on
 * NOTIFY (a hint; a reconnected listener catches up), when the next retry or lease falls due, and otherwise
 * polls only as a slow backstop: a daemon at rest does not wake for it.
 */
import type { Db, Queryable } from "../../lib/db/types.ts";
import type { Logger } from "../../lib/log.ts";
import type { EventEnvelope } from "../../lib/schemas/event.ts";
import { OUTBOX_CHANNEL } from "../store/outbox.ts";
import type { Publisher } from "./amqp.ts";
import {
  claimBatch,
  extendLease,
  fail,
  markPublished,
  nextDueIn,
  type OutboxRow,
  release,
  releaseOwn,
  toEnvelope,
} from "./queue.ts";

export interface RelayOptions {
  owner: string;
  batchSize?: number;
  leaseMs: number;
  pollMs: number;
  maxAttempts: number;
  retryBaseMs: number;
  log: Logger;
  /** Runs in the transaction that marks events published (notifications are queued here). */
  onDelivered?: (tx: Queryable, events: EventEnvelope[]) => Promise<void>;
  /** After each settled batch, with the time each event took from commit to publish. */
  onBatch?: (
    stats: { published: number; retried: number; dead: number; released: number; latenciesMs: number[] },
  ) => void;
  /** Called with the highest published seq after a mark (the local event stream reads at once). */
  onPublished?: (seq: number) => void;
}

export class Relay {
  #db: Db;
  #pub: Publisher;
  #o: Required<Omit<RelayOptions, "onDelivered" | "onBatch" | "onPublished">> & RelayOptions;
  #stop = new AbortController();
  #wake?: () => void;
  #pending = false;
  #loop?: Promise<void>;
  #unlisten?: () => Promise<void>;

  constructor(db: Db, publisher: Publisher, opts: RelayOptions) {
    this.#db = db;
    this.#pub = publisher;
    this.#o = { batchSize: 500, ...opts };
  }

  kick(): void {
    this.#pending = true;
    this.#wake?.();
  }

  async start(): Promise<void> {
    const released = await releaseOwn(this.#db, this.#o.owner);
    if (released) this.#o.log.info("released this daemon's leftover claims", { events: released });
    this.#unlisten = await this.#db.listen(OUTBOX_CHANNEL, () => this.kick(), () => this.kick());
    this.#loop = this.#run();
  }

  async #run(): Promise<void> {
    while (!this.#stop.signal.aborted) {
      let handled = 0;
      try {
        if (!(await this.#pub.ready(this.#stop.signal))) break;
        handled = await this.runOnce();
        if (handled < this.#o.batchSize && !this.#pending) {
          // Nothing more now: sleep until a retry or another relay's lease falls due (or a NOTIFY).
          const due = await nextDueIn(this.#db);
          if (!this.#pending) await this.#sleep(Math.min(this.#o.pollMs, Math.max(20, due ?? Infinity)));
        }
      } catch (e) {
        this.#o.log.warn("relay cycle failed; retrying", { error: (e as Error).message });
        await this.#sleep(Math.min(5000, this.#o.pollMs * 2));
        continue;
      }
      this.#pending = false;
    }
  }

  #sleep(ms: number): Promise<void> {
    if (this.#stop.signal.aborted) return Promise.resolve();
    return new Promise((resolve) => {
      const timer = setTimeout(done, ms);
      function done() {
        clearTimeout(timer);
        resolve();
      }
      this.#wake = () => {
        this.#wake = undefined;
        done();
      };
      this.#stop.signal.addEventListener("abort", done, { once: true });
    });
  }

  /** One claim–publish–settle cycle; returns how many rows it claimed. */
  async runOnce(): Promise<number> {
    const rows = await claimBatch(this.#db, this.#o.owner, this.#o.batchSize, this.#o.leaseMs);
    if (rows.length === 0) return 0;
    const envelopes = rows.map(toEnvelope);
    // Keep the claim alive while the broker is slow, so no other relay publishes these rows too.
    const ids = rows.map((r) => r.id);
    const renew = setInterval(() => {
      extendLease(this.#db, this.#o.owner, ids, this.#o.leaseMs).catch(() => {});
    }, Math.max(100, this.#o.leaseMs / 3));
    let results;
    try {
      results = await this.#pub.publish(
        rows.map((r, i) => ({ envelope: envelopes[i], orderingKey: r.ordering_key })),
      );
    } finally {
      clearInterval(renew);
    }
    const ok: OutboxRow[] = [];
    const again: number[] = [];
    let retried = 0;
    let dead = 0;
    for (const [i, row] of rows.entries()) {
      const r = results[i];
      if (r.ok) ok.push(row);
      else if (r.kind === "connection") again.push(row.id);
      else {
        const outcome = await fail(this.#db, row, r.error, this.#o);
        if (outcome === "dead") {
          dead++;
          this.#o.log.error("event dead-lettered", {
            event: row.id,
            type: row.type,
            attempts: row.attempts,
            error: r.error,
          });
        } else retried++;
      }
    }
    if (again.length) {
      const first = results.find((r) => !r.ok && r.kind === "connection") as { error: string } | undefined;
      this.#o.log.warn("events not confirmed by the broker; released for another attempt", {
        events: again.length,
        error: first?.error,
      });
    }
    await release(this.#db, again);
    const delivered = ok.map(toEnvelope);
    const seq = await markPublished(
      this.#db,
      ok.map((r) => r.id),
      this.#o.onDelivered ? (tx) => this.#o.onDelivered!(tx, delivered) : undefined,
    );
    if (seq !== undefined) this.#o.onPublished?.(seq);
    const now = Date.now();
    this.#o.onBatch?.({
      published: ok.length,
      retried,
      dead,
      released: again.length,
      latenciesMs: ok.map((r) => now - r.created_at.getTime()),
    });
    if (again.length) await this.#sleep(200); // the connection is gone: let ready() notice before reclaiming
    return rows.length;
  }

  async stop(): Promise<void> {
    this.#stop.abort();
    await this.#loop;
    await this.#unlisten?.().catch(() => {});
  }
}
