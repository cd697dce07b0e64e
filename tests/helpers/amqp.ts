/** A RabbitMQ consumer for tests, on a durable queue bound to the events exchange, that survives broker restarts. */
import amqp, { type ChannelModel } from "amqplib";
import { EXCHANGE } from "../../daemon/outbox/amqp.ts";
import { AMQP_TEST_URL } from "./env.ts";

export interface TestConsumer {
  queue: string;
  /** message_id → times received */
  received: Map<number, number>;
  /** Deliveries the broker repeated to this consumer (after a consumer reconnect), not published twice. */
  redeliveries(): number;
  /** Bodies in arrival order. */
  bodies: { id: number; type: string; entityId: string; payload: Record<string, unknown> }[];
  /** Copies beyond the first that the broker had not marked redelivered: what the relay published twice. */
  duplicates(): number;
  close(): Promise<void>;
}

export async function startConsumer(bindingKey = "#"): Promise<TestConsumer> {
  const queue = `stratavore-test-${crypto.randomUUID().slice(0, 8)}`;
  const received = new Map<number, number>();
  const fresh = new Map<number, number>();
  let redelivered = 0;
  const bodies: TestConsumer["bodies"] = [];
  let closed = false;
  let conn: ChannelModel | undefined;

  const connect = async () => {
    const c = await amqp.connect(`${AMQP_TEST_URL}?heartbeat=30`);
    c.on("error", () => {});
    c.on("close", () => {
      if (!closed) void reconnect();
    });
    const ch = await c.createChannel();
    ch.on("error", () => {});
    await ch.assertExchange(EXCHANGE, "topic", { durable: true });
    await ch.assertQueue(queue, { durable: true, autoDelete: false });
    await ch.bindQueue(queue, EXCHANGE, bindingKey);
    await ch.prefetch(1000);
    await ch.consume(queue, (msg) => {
      if (!msg) return;
      const id = Number(msg.properties.messageId);
      received.set(id, (received.get(id) ?? 0) + 1);
      if (msg.fields.redelivered) redelivered++;
      else fresh.set(id, (fresh.get(id) ?? 0) + 1);
      try {
        bodies.push(JSON.parse(msg.content.toString()));
      } catch { /* not ours */ }
      ch.ack(msg);
    });
    conn = c;
  };
  const reconnect = async () => {
    for (let i = 0; i < 120 && !closed; i++) {
      await new Promise((r) => setTimeout(r, 500));
      try {
        await connect();
        return;
      } catch { /* broker still down */ }
    }
  };
  await connect();
  return {
    queue,
    received,
    bodies,
    duplicates: () => [...fresh.values()].reduce((s, n) => s + (n - 1), 0),
    redeliveries: () => redelivered,
    async close() {
      closed = true;
      try {
        const c = await amqp.connect(AMQP_TEST_URL);
        const ch = await c.createChannel();
        await ch.deleteQueue(queue);
        await c.close();
      } catch { /* best effort */ }
      await conn?.close().catch(() => {});
    },
  };
}

/** A queue that refuses every message routed to it (the broker nacks the publish). */
export async function refusingQueue(bindingKey: string): Promise<{ close(): Promise<void> }> {
  const queue = `stratavore-test-nack-${crypto.randomUUID().slice(0, 8)}`;
  const c = await amqp.connect(AMQP_TEST_URL);
  const ch = await c.createChannel();
  await ch.assertExchange(EXCHANGE, "topic", { durable: true });
  await ch.assertQueue(queue, {
    durable: false,
    arguments: { "x-max-length": 0, "x-overflow": "reject-publish" },
  });
  await ch.bindQueue(queue, EXCHANGE, bindingKey);
  return {
    async close() {
      await ch.deleteQueue(queue).catch(() => {});
      await c.close().catch(() => {});
    },
  };
}

export async function rabbitmqctl(...args: string[]): Promise<void> {
  const out = await new Deno.Command("rabbitmqctl", { args, stdout: "piped", stderr: "piped" }).output();
  if (!out.success) throw new Error(`rabbitmqctl ${args.join(" ")}: ${new TextDecoder().decode(out.stderr)}`);
}
