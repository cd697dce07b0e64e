/**
 * Publishing to RabbitMQ: a durable topic exchange, persistent messages, publisher confirms with a
 * timeout. A publish counts only when its confirm arrives. The connection has an explicit heartbeat and
 * is re-opened with capped exponential backoff and jitter; publishes cut off by a lost connection are
 * reported as such (the relay retries them without counting an attempt), a nack as a refusal.
 *
 * amqplib rather than @cloudamqp/amqp-client: the latter misreads a multiple nack whose requeue bit is set
 * (RabbitMQ sets it), so the earlier publishes it covers never settle (seen with x-overflow reject-publish).
 */
// Loaded when a RabbitMQ publisher first connects: a daemon on in-process events never loads amqplib (and the
// Node layers behind it).
import type { ChannelModel, ConfirmChannel } from "amqplib";
import { Buffer } from "node:buffer";
import { maskUrl } from "../../lib/config.ts";
import type { Logger } from "../../lib/log.ts";
import type { EventEnvelope } from "../../lib/schemas/event.ts";

export const EXCHANGE = "stratavore.events";

export type PublishResult = { ok: true } | { ok: false; kind: "connection" | "refused"; error: string };

export interface Publisher {
  readonly kind: "embedded" | "rabbitmq";
  readonly location: string;
  /** Resolves when publishing is possible (reconnecting as needed), or when `signal` aborts. */
  ready(signal: AbortSignal): Promise<boolean>;
  /** Publishes in order per ordering key; one result per event, same order. */
  publish(events: { envelope: EventEnvelope; orderingKey: string }[]): Promise<PublishResult[]>;
  close(): Promise<void>;
}

export interface AmqpOptions {
  heartbeatSeconds?: number;
  confirmTimeoutMs?: number;
  log: Logger;
}

export class AmqpPublisher implements Publisher {
  readonly kind = "rabbitmq" as const;
  readonly location: string;
  #url: string;
  #opts: Required<Omit<AmqpOptions, "log">>;
  #log: Logger;
  #conn?: ChannelModel;
  #channel?: ConfirmChannel;
  #up = false;
  #connecting?: Promise<boolean>;
  #failures = 0;
  #closed = false;

  constructor(url: string, opts: AmqpOptions) {
    const u = new URL(url);
    // The library's default heartbeat is 0 (none): a dead broker would go unnoticed for minutes.
    if (!u.searchParams.has("heartbeat")) {
      u.searchParams.set("heartbeat", String(opts.heartbeatSeconds ?? 10));
    }
    if (!u.searchParams.has("name")) u.searchParams.set("name", "stratavore-relay");
    this.#url = u.toString();
    this.location = maskUrl(url);
    this.#opts = {
      heartbeatSeconds: opts.heartbeatSeconds ?? 10,
      confirmTimeoutMs: opts.confirmTimeoutMs ?? 10_000,
    };
    this.#log = opts.log;
  }

  get connected(): boolean {
    return this.#up;
  }

  async #connectOnce(): Promise<void> {
    const { default: amqp } = await import("amqplib");
    const conn = await amqp.connect(this.#url);
    const down = (err?: Error) => {
      if (!this.#up) return;
      this.#up = false;
      if (!this.#closed) {
        this.#log.warn("RabbitMQ connection lost; publishing resumes after reconnecting", {
          error: err?.message,
        });
      }
    };
    conn.on("error", down);
    conn.on("close", down);
    try {
      const ch = await conn.createConfirmChannel();
      ch.on("error", down);
      ch.on("close", () => down(new Error("channel closed")));
      await ch.assertExchange(EXCHANGE, "topic", { durable: true });
      this.#conn = conn;
      this.#channel = ch;
      this.#up = true;
    } catch (e) {
      await conn.close().catch(() => {});
      throw e;
    }
  }

  ready(signal: AbortSignal): Promise<boolean> {
    if (this.connected) return Promise.resolve(true);
    this.#connecting ??= (async () => {
      while (!signal.aborted && !this.#closed) {
        try {
          await this.#connectOnce();
          if (this.#failures > 0) this.#log.info("RabbitMQ connected again", { attempts: this.#failures });
          this.#failures = 0;
          return true;
        } catch (e) {
          this.#failures++;
          const delay = Math.min(30_000, 500 * 2 ** Math.min(this.#failures - 1, 6)) *
            (0.5 + Math.random() * 0.5);
          if (this.#failures === 1 || this.#failures % 10 === 0) {
            this.#log.warn("cannot reach RabbitMQ; retrying", {
              error: (e as Error).message,
              retryInMs: Math.round(delay),
            });
          }
          await new Promise<void>((r) => {
            const t = setTimeout(r, delay);
            signal.addEventListener("abort", () => {
              clearTimeout(t);
              r();
            }, { once: true });
          });
        }
      }
      return false;
    })().finally(() => (this.#connecting = undefined));
    return this.#connecting;
  }

  #publishOne(envelope: EventEnvelope): Promise<PublishResult> {
    const ch = this.#channel;
    if (!ch || !this.#up) return Promise.resolve({ ok: false, kind: "connection", error: "not connected" });
    return new Promise((resolve) => {
      const timer = setTimeout(
        // A confirm that never came may still arrive after a reconnect: the row is published again later
        // (at least once), never marked published without a confirm.
        () => resolve({ ok: false, kind: "connection", error: "no confirm within the timeout" }),
        this.#opts.confirmTimeoutMs,
      );
      try {
        ch.publish(EXCHANGE, envelope.type, Buffer.from(JSON.stringify(envelope)), {
          messageId: String(envelope.id),
          persistent: true,
          contentType: "application/json",
          type: envelope.type,
          timestamp: Math.floor(Date.parse(envelope.occurredAt) / 1000),
          headers: { "x-stratavore-version": envelope.version },
        }, (err) => {
          clearTimeout(timer);
          if (!err) resolve({ ok: true });
          else if (/nacked/.test(String(err.message))) {
            resolve({ ok: false, kind: "refused", error: "the broker nacked the message" });
          } else resolve({ ok: false, kind: "connection", error: String(err.message) });
        });
      } catch (e) {
        clearTimeout(timer);
        resolve({ ok: false, kind: "connection", error: (e as Error).message });
      }
    });
  }

  /** Keys are published side by side; within one key each waits for the previous confirm. */
  async publish(events: { envelope: EventEnvelope; orderingKey: string }[]): Promise<PublishResult[]> {
    const results: PublishResult[] = new Array(events.length);
    const byKey = new Map<string, number[]>();
    events.forEach((e, i) => byKey.set(e.orderingKey, [...(byKey.get(e.orderingKey) ?? []), i]));
    await Promise.all([...byKey.values()].map(async (indexes) => {
      let blocked: PublishResult | undefined;
      for (const i of indexes) {
        if (blocked) {
          results[i] = {
            ok: false,
            kind: "connection",
            error: "an earlier event of the same key was not published",
          };
          continue;
        }
        results[i] = await this.#publishOne(events[i].envelope);
        if (!results[i].ok) blocked = results[i];
      }
    }));
    return results;
  }

  async close(): Promise<void> {
    this.#closed = true;
    this.#up = false;
    try {
      await this.#conn?.close();
    } catch { /* already gone */ }
  }
}

/** The embedded default: delivery is the database's own (the event stream and notifications read it). */
export class EmbeddedPublisher implements Publisher {
  readonly kind = "embedded" as const;
  readonly location = "in-process";
  ready(): Promise<boolean> {
    return Promise.resolve(true);
  }
  publish(events: unknown[]): Promise<PublishResult[]> {
    return Promise.resolve(events.map(() => ({ ok: true as const })));
  }
  close(): Promise<void> {
    return Promise.resolve();
  }
}
