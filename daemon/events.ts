/**
 * Event delivery for the daemon: the publisher (RabbitMQ with AMQP_URL, else in-process), the relay that
 * drains the outbox into it, the published-event stream for SSE, and the pruning of old rows.
 */
import type { Queryable } from "../lib/db/types.ts";
import type { EventEnvelope } from "../lib/schemas/event.ts";
import { startLoop } from "./loop.ts";
import { AmqpPublisher, EmbeddedPublisher, type Publisher } from "./outbox/amqp.ts";
import { prunePublished } from "./outbox/queue.ts";
import { Relay, type RelayOptions } from "./outbox/relay.ts";
import { EventTail } from "./outbox/tail.ts";
import type { Services } from "./services.ts";

export interface EventSystem {
  publisher: Publisher;
  relay: Relay;
  tail: EventTail;
  /** Waits (bounded) until nothing this daemon can publish is pending, then stops everything. */
  stop(flushMs: number): Promise<void>;
}

export interface EventHooks {
  onDelivered?: (tx: Queryable, events: EventEnvelope[]) => Promise<void>;
  onBatch?: RelayOptions["onBatch"];
}

export function makePublisher(s: Pick<Services, "config" | "log">): Publisher {
  return s.config.amqpUrl
    ? new AmqpPublisher(s.config.amqpUrl, { log: s.log.child({ component: "amqp" }) })
    : new EmbeddedPublisher();
}

export async function startEvents(
  s: Services,
  publisher: Publisher,
  hooks: EventHooks = {},
): Promise<EventSystem> {
  const log = s.log.child({ component: "relay" });
  const tail = new EventTail(s.db, log);
  await tail.start(s.config.outboxPollInterval);
  const relay = new Relay(s.db, publisher, {
    owner: s.daemonId,
    leaseMs: s.config.outboxLease,
    pollMs: s.config.outboxPollInterval,
    maxAttempts: s.config.outboxMaxAttempts,
    retryBaseMs: s.config.outboxRetryDelay,
    log,
    onDelivered: hooks.onDelivered,
    onBatch: hooks.onBatch,
    onPublished: () => tail.kick(),
  });
  await relay.start();
  const prune = startLoop(
    "outbox pruning",
    3_600_000,
    async () => {
      const n = await prunePublished(s.db, s.config.outboxRetention);
      if (n) log.info("pruned published events", { events: n });
    },
    log,
    { initialDelayMs: 60_000 },
  );
  return {
    publisher,
    relay,
    tail,
    async stop(flushMs: number) {
      await prune.stop();
      const deadline = Date.now() + flushMs;
      while (Date.now() < deadline) {
        const [{ n }] = await s.db.query<{ n: number }>(
          "SELECT count(*)::int AS n FROM outbox WHERE published_at IS NULL AND dead_at IS NULL AND next_attempt_at <= now()",
        );
        if (n === 0) break;
        relay.kick();
        await new Promise((r) => setTimeout(r, 50));
      }
      await relay.stop();
      await tail.stop();
      await publisher.close();
    },
  };
}
