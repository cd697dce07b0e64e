/**
 * Event relay: throughput (events/s, with publisher confirms) draining a backlog, and end-to-end latency
 * from commit to consumer receipt (p50/p99) at 1,000 events/s offered, to RabbitMQ and to the embedded
 * in-process delivery (consumer: an SSE client of the daemon). PostgreSQL backs both.
 *   deno run -A bench/events.ts [--backlog 20000] [--seconds 10]
 */
import postgres from "postgres";
import { StratavoreClient } from "../lib/client.ts";
import { followEvents } from "../lib/sse.ts";
import { startDaemon } from "../tests/helpers/daemon.ts";
import { freshPostgres } from "../tests/helpers/db.ts";
import { AMQP_TEST_URL } from "../tests/helpers/env.ts";
import { startConsumer } from "../tests/helpers/amqp.ts";
import { ms, summarize, table } from "./lib.ts";

const args = Deno.args.join(" ");
const BACKLOG = Number(/--backlog[ =](\d+)/.exec(args)?.[1] ?? 20_000);
const SECONDS = Number(/--seconds[ =](\d+)/.exec(args)?.[1] ?? 10);
const RATE = 1000;
const KEYS = 1000;

async function insert(sql: postgres.Sql, from: number, n: number, type: string): Promise<void> {
  await sql.begin(async (tx) => {
    await tx.unsafe(
      `INSERT INTO outbox (type, entity_id, ordering_key, payload)
       SELECT $1, 'bench', 'bench:' || (g % ${KEYS}), jsonb_build_object('n', g, 'at', clock_timestamp())
       FROM generate_series($2::int, $3::int) g`,
      [type, from, from + n - 1],
    );
    await tx.unsafe("SELECT pg_notify('stratavore_outbox', '')");
  });
}

interface Run {
  label: string;
  throughput: number;
  p50: number;
  p99: number;
  received: number;
}

async function run(broker: "rabbitmq" | "embedded"): Promise<Run> {
  const pg = await freshPostgres();
  const sql = postgres(pg.url, { max: 4, onnotice: () => {} });
  const consumer = broker === "rabbitmq" ? await startConsumer("bench.#") : undefined;
  const daemon = await startDaemon({
    databaseUrl: pg.url,
    env: { STRATAVORE_LOG_LEVEL: "warn", ...(broker === "rabbitmq" ? { AMQP_URL: AMQP_TEST_URL } : {}) },
  });
  const client = new StratavoreClient({ url: daemon.url, token: daemon.token });
  const latencies: number[] = [];
  const seen = new Set<number>();
  const stop = new AbortController();
  const onEvent = (e: { id: number; type: string; payload: Record<string, unknown> }) => {
    if (!e.type.startsWith("bench.") || seen.has(e.id)) return;
    seen.add(e.id);
    if (e.type === "bench.latency") latencies.push(Date.now() - Date.parse(String(e.payload.at)));
  };
  let stream: Promise<void> | undefined;
  try {
    if (broker === "embedded") {
      stream = followEvents(client, { types: "bench.*", signal: stop.signal, onEvent });
      await new Promise((r) => setTimeout(r, 500));
    }
    const received = () => (consumer ? consumer.received.size : seen.size);
    if (consumer) {
      const tick = setInterval(() => {
        for (const b of consumer.bodies.splice(0)) onEvent(b as never);
      }, 20);
      stop.signal.addEventListener("abort", () => clearInterval(tick));
    }

    // Throughput: a backlog committed at once, drained with confirms.
    for (let i = 0; i < BACKLOG; i += 5000) {
      await insert(sql, i, Math.min(5000, BACKLOG - i), "bench.backlog");
    }
    const t0 = performance.now();
    const deadline = Date.now() + 120_000;
    while (Date.now() < deadline) {
      const [{ n }] =
        await sql`SELECT count(*)::int AS n FROM outbox WHERE type = 'bench.backlog' AND published_at IS NULL`;
      if (n === 0) break;
      await new Promise((r) => setTimeout(r, 20));
    }
    const throughput = BACKLOG / ((performance.now() - t0) / 1000);
    console.error(`  ${broker}: backlog drained at ${Math.round(throughput)} events/s`);

    // Latency: 1,000 events/s offered, 10 per transaction every 10 ms.
    const end = performance.now() + SECONDS * 1000;
    let n = 0;
    while (performance.now() < end) {
      const tick = performance.now();
      await insert(sql, BACKLOG + n, 10, "bench.latency");
      n += 10;
      await new Promise((r) => setTimeout(r, Math.max(0, 10 - (performance.now() - tick))));
    }
    const until = Date.now() + 30_000;
    while (latencies.length < n && Date.now() < until) await new Promise((r) => setTimeout(r, 50));
    const s = summarize(latencies);
    return { label: broker, throughput, p50: s.p50, p99: s.p99, received: received() };
  } finally {
    stop.abort();
    await stream?.catch(() => {});
    await daemon.stop();
    await consumer?.close();
    await sql.end();
    await pg.drop();
  }
}

export async function benchEvents(): Promise<string> {
  const rows: Run[] = [];
  for (const b of ["rabbitmq", "embedded"] as const) rows.push(await run(b));
  const r = rows[0];
  return [
    `event relay (backlog ${BACKLOG} events over ${KEYS} ordering keys; latency at ${RATE}/s for ${SECONDS} s)`,
    table(
      ["delivery", "throughput (events/s)", "latency p50", "latency p99", "received"],
      rows.map((x) => [x.label, Math.round(x.throughput), ms(x.p50), ms(x.p99), x.received]),
    ),
    `targets: >= 5000 events/s to RabbitMQ: ${r.throughput >= 5000 ? "met" : "NOT met"}; ` +
    `p99 < 100 ms at 1000/s: ${rows.every((x) => x.p99 < 100) ? "met" : "NOT met"}`,
  ].join("\n");
}

if (import.meta.main) console.log(await benchEvents());
