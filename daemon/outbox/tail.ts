/**
 * The published-event stream of this daemon: follows published_seq (assigned in commit order, see
 * queue.ts), waking on NOTIFY from any daemon's relay and polling as a backstop, and hands each event to
 * the local subscribers (SSE clients). Every daemon sharing the database sees every event.
 */
import type { Db } from "../../lib/db/types.ts";
import type { Logger } from "../../lib/log.ts";
import type { EventEnvelope } from "../../lib/schemas/event.ts";
import { lastPublishedSeq, PUBLISHED_CHANNEL, publishedSince, toEnvelope } from "./queue.ts";

export type EventSubscriber = (event: EventEnvelope) => void;

export class EventTail {
  #db: Db;
  #log: Logger;
  #cursor = 0;
  #subs = new Set<EventSubscriber>();
  #running?: Promise<void>;
  #again = false;
  #timer?: ReturnType<typeof setInterval>;
  #unlisten?: () => Promise<void>;

  constructor(db: Db, log: Logger) {
    this.#db = db;
    this.#log = log;
  }

  /** The last seq handed to subscribers. */
  get cursor(): number {
    return this.#cursor;
  }

  async start(pollMs = 1000): Promise<void> {
    this.#cursor = await lastPublishedSeq(this.#db);
    this.#unlisten = await this.#db.listen(PUBLISHED_CHANNEL, () => this.kick(), () => this.kick());
    this.#timer = setInterval(() => this.kick(), pollMs);
  }

  subscribe(fn: EventSubscriber): () => void {
    this.#subs.add(fn);
    return () => this.#subs.delete(fn);
  }

  kick(): void {
    if (this.#running) {
      this.#again = true;
      return;
    }
    this.#running = this.#read().finally(() => {
      this.#running = undefined;
      if (this.#again) {
        this.#again = false;
        this.kick();
      }
    });
  }

  async #read(): Promise<void> {
    try {
      for (;;) {
        const rows = await publishedSince(this.#db, this.#cursor, 1000);
        for (const row of rows) {
          this.#cursor = row.published_seq!;
          const env = toEnvelope(row);
          for (const fn of this.#subs) {
            try {
              fn(env);
            } catch (e) {
              this.#log.warn("event subscriber failed", { error: (e as Error).message });
            }
          }
        }
        if (rows.length < 1000) return;
      }
    } catch (e) {
      this.#log.debug("event stream read failed; will retry", { error: (e as Error).message });
    }
  }

  async stop(): Promise<void> {
    clearInterval(this.#timer);
    await this.#running;
    await this.#unlisten?.().catch(() => {});
  }
}
