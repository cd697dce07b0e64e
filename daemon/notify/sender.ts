/**
 * The sender loop for one chat: claim what is due, send it (one message, or one digest for a burst), and
 * settle it. At most one message per second goes to the chat; 5xx and network errors are retried with
 * exponential backoff, a 429 waits its retry_after, and a row that keeps failing is marked failed.
 * It runs beside the daemon's work and never inside a transaction, so a slow Telegram slows nothing else.
 */
import type { Db } from "../../lib/db/types.ts";
import type { Logger } from "../../lib/log.ts";
import { asPriority, isSilent, MAX_MESSAGE, renderDigest } from "./format.ts";
import {
  claimDue,
  markFailedAttempt,
  markSent,
  nextDueIn,
  type NotificationRow,
  NOTIFY_CHANNEL,
  postpone,
  releaseClaims,
} from "./queue.ts";
import type { SendOutcome, TelegramClient } from "./telegram.ts";

export interface SenderOptions {
  chatId: string;
  telegram: Pick<TelegramClient, "send">;
  log: Logger;
  retryBaseMs: number;
  maxAttempts: number;
  /** Minimum time between two messages to the chat. */
  minGapMs?: number;
  digestAt?: number;
  digestMax?: number;
  leaseMs?: number;
  pollMs?: number;
}

/** Exponential backoff with jitter: base, 2×base, 4×base … capped at 10 minutes. */
export function backoff(attempt: number, baseMs: number): number {
  const exp = Math.min(baseMs * 2 ** Math.max(0, attempt - 1), 600_000);
  return Math.round(exp * (0.8 + Math.random() * 0.4));
}

export class NotificationSender {
  #db: Db;
  #o: Required<SenderOptions>;
  #stop = new AbortController();
  #draining = false;
  #wake?: () => void;
  #loop?: Promise<void>;
  #unlisten?: () => Promise<void>;
  #nextAllowed = 0;

  constructor(db: Db, opts: SenderOptions) {
    this.#db = db;
    this.#o = { minGapMs: 1000, digestAt: 3, digestMax: 25, leaseMs: 60_000, pollMs: 1000, ...opts };
  }

  async start(): Promise<void> {
    this.#unlisten = await this.#db.listen(NOTIFY_CHANNEL, () => this.kick(), () => this.kick());
    this.#loop = this.#run();
  }

  kick(): void {
    this.#wake?.();
  }

  async #run(): Promise<void> {
    while (!this.#stop.signal.aborted) {
      try {
        const wait = this.#nextAllowed - Date.now();
        if (wait > 0) {
          await this.#sleep(wait, false);
          continue;
        }
        const outcome = await this.sendNext();
        if (outcome === "sent") continue;
        if (outcome === "busy") {
          // Another sender holds the chat, or the last message went out under a second ago.
          await this.#sleep(250, false);
          continue;
        }
        if (this.#draining) break;
        const due = await nextDueIn(this.#db, this.#o.chatId);
        await this.#sleep(Math.min(this.#o.pollMs, Math.max(50, due ?? Infinity)), true);
      } catch (e) {
        if (this.#stop.signal.aborted) break;
        this.#o.log.warn("notification sender cycle failed; retrying", { error: (e as Error).message });
        await this.#sleep(Math.max(this.#o.pollMs, 1000), false);
      }
    }
  }

  #sleep(ms: number, wakeable: boolean): Promise<void> {
    const signal = this.#stop.signal;
    if (signal.aborted) return Promise.resolve();
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        signal.removeEventListener("abort", done);
        if (this.#wake === done) this.#wake = undefined;
        resolve();
      };
      const timer = setTimeout(done, ms);
      signal.addEventListener("abort", done, { once: true });
      if (wakeable) this.#wake = done;
    });
  }

  /** Claims, sends and settles one message: "idle" when nothing is due, "busy" when the chat must wait. */
  async sendNext(): Promise<"sent" | "idle" | "busy"> {
    const o = this.#o;
    let rows = await claimDue(this.#db, o.chatId, o);
    if (rows === undefined) return "busy";
    if (rows.length === 0) return "idle";
    let text = rows[0].text;
    // A message with buttons goes on its own (a digest has no room for them).
    const withButtons = rows.findIndex((r) => r.buttons?.length);
    if (rows.length > 1 && withButtons >= 0) {
      const alone = withButtons === 0 ? rows.slice(0, 1) : rows.slice(0, withButtons);
      await releaseClaims(this.#db, rows.filter((r) => !alone.includes(r)).map((r) => r.id));
      rows = alone;
      text = rows[0].text;
    }
    if (rows.length > 1) {
      const fit: NotificationRow[] = [];
      for (const r of rows) {
        const next = renderDigest(
          [...fit, r].map((x) => ({ priority: asPriority(x.priority), text: x.text })),
        );
        if (fit.length > 0 && next.length > MAX_MESSAGE) break;
        fit.push(r);
        text = next;
      }
      await releaseClaims(this.#db, rows.slice(fit.length).map((r) => r.id));
      rows = fit;
      if (rows.length === 1) text = rows[0].text;
    }
    const ids = rows.map((r) => r.id);
    const log = o.log.child({ notifications: ids, events: rows.map((r) => r.event_id) });
    const outcome = await o.telegram.send(o.chatId, text, {
      silent: rows.every((r) => isSilent(asPriority(r.priority))),
      signal: this.#stop.signal,
      buttons: rows.length === 1 ? rows[0].buttons ?? undefined : undefined,
    });
    // The gap counts from the answer, as the database's sent_at does (other daemons check that).
    this.#nextAllowed = Date.now() + o.minGapMs;
    await this.#settle(rows, outcome, log);
    return "sent";
  }

  async #settle(rows: NotificationRow[], outcome: SendOutcome, log: Logger): Promise<void> {
    const ids = rows.map((r) => r.id);
    switch (outcome.kind) {
      case "sent":
        await markSent(this.#db, ids);
        log.info(rows.length > 1 ? "sent a Telegram digest" : "sent a Telegram notification", {
          messageId: outcome.answer.message_id,
        });
        return;
      case "rate_limited":
        this.#nextAllowed = Math.max(this.#nextAllowed, Date.now() + outcome.retryAfterMs);
        await postpone(this.#db, ids, outcome.error, outcome.retryAfterMs);
        log.warn("Telegram asked to slow down; waiting", { retryAfterMs: outcome.retryAfterMs });
        return;
      case "aborted":
        await releaseClaims(this.#db, ids);
        return;
      default: {
        const attempt = Math.max(...rows.map((r) => r.attempts)) + 1;
        const delayMs = backoff(attempt, this.#o.retryBaseMs);
        const failed = await markFailedAttempt(this.#db, ids, outcome.error, {
          delayMs,
          maxAttempts: this.#o.maxAttempts,
          permanent: outcome.kind === "permanent",
        });
        if (failed.length) {
          log.error("Telegram notification failed; giving up", { error: outcome.error, attempts: attempt });
        } else {
          log.warn("Telegram notification not sent; will retry", { error: outcome.error, attempt, delayMs });
        }
      }
    }
  }

  /** Sends what is due for up to flushMs, then stops (a send in flight is abandoned and its rows kept). */
  async stop(flushMs: number): Promise<void> {
    this.#draining = true;
    this.kick();
    const timer = setTimeout(() => this.#stop.abort(), flushMs);
    await this.#loop;
    clearTimeout(timer);
    this.#stop.abort();
    await this.#unlisten?.().catch(() => {});
  }
}
