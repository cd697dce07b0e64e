/**
 * Zero loss under faults: real PostgreSQL, real RabbitMQ, the daemon as a subprocess. 10,000 events are
 * committed while something breaks; a consumer on a durable queue bound to the exchange must receive every
 * outbox id at least once. Duplicates are printed (at-least-once delivery allows them).
 */
import postgres from "postgres";
import { assert, assertEquals, eventually } from "../helpers/assert.ts";
import { type DaemonHandle, startDaemon } from "../helpers/daemon.ts";
import { freshPostgres } from "../helpers/db.ts";
import { AMQP_TEST_URL, FAST_TIER, SKIP_AMQP, SKIP_PG } from "../helpers/env.ts";
import { withBrokerLock } from "../helpers/lock.ts";
import { rabbitmqctl, refusingQueue, startConsumer, type TestConsumer } from "../helpers/amqp.ts";
import { removeDir, tempDir } from "../helpers/fs.ts";
import { StratavoreClient } from "../../lib/client.ts";
import { runStratavore } from "../helpers/cli.ts";

const TOTAL = 10_000;
const ignore = SKIP_PG || SKIP_AMQP || FAST_TIER;
const DAEMON_ENV = {
  AMQP_URL: AMQP_TEST_URL,
  STRATAVORE_OUTBOX_LEASE: "3s",
  STRATAVORE_OUTBOX_POLL_INTERVAL: "200ms",
  STRATAVORE_OUTBOX_RETRY_DELAY: "100ms",
  STRATAVORE_LOG_LEVEL: "info",
};

/** Commits `total` events in transactions of 100 (each with its NOTIFY), spread over a few seconds. */
async function produce(url: string, total: number, type = "test.burst"): Promise<number[]> {
  const sql = postgres(url, { max: 2, onnotice: () => {} });
  const ids: number[] = [];
  try {
    for (let start = 0; start < total; start += 100) {
      const n = Math.min(100, total - start);
      const rows = await sql.begin(async (tx) => {
        const r = await tx.unsafe(
          `INSERT INTO outbox (type, entity_id, ordering_key, payload)
           SELECT $1, 'burst', 'burst:' || (g % 50), jsonb_build_object('n', g)
           FROM generate_series($2::int, $3::int) g ORDER BY g RETURNING id`,
          [type, start, start + n - 1],
        );
        await tx.unsafe("SELECT pg_notify('stratavore_outbox', '')");
        return r;
      });
      ids.push(...rows.map((r) => Number(r.id)));
      await new Promise((r) => setTimeout(r, 15));
    }
  } finally {
    await sql.end();
  }
  return ids;
}

async function allDelivered(consumer: TestConsumer, ids: number[], timeoutMs = 120_000): Promise<void> {
  await eventually(
    () => ids.every((id) => consumer.received.has(id)),
    timeoutMs,
    `all ${ids.length} ids delivered`,
  );
}

async function unpublished(url: string): Promise<{ pending: number; dead: number }> {
  const sql = postgres(url, { max: 1, onnotice: () => {} });
  try {
    const [r] =
      await sql`SELECT count(*) FILTER (WHERE published_at IS NULL AND dead_at IS NULL)::int AS pending,
      count(*) FILTER (WHERE dead_at IS NOT NULL)::int AS dead FROM outbox WHERE type = 'test.burst'`;
    return { pending: r.pending, dead: r.dead };
  } finally {
    await sql.end();
  }
}

interface Scenario {
  name: string;
  /** Runs while the burst is in flight, once the consumer has seen a third of it. */
  fault(ctx: { daemons: DaemonHandle[]; url: string; restart: () => Promise<void> }): Promise<void>;
  daemons?: number;
  maxDuplicates?: number;
  /** Check that each ordering key's events arrived in commit order (the normal path, without redelivery). */
  checkOrder?: boolean;
  /** On top of DAEMON_ENV. */
  env?: Record<string, string>;
}

function scenario(s: Scenario): void {
  Deno.test({
    name: `events: ${s.name}: every one of ${TOTAL} events reaches RabbitMQ [postgres, rabbitmq]`,
    ignore,
    sanitizeOps: false,
    sanitizeResources: false,
    // RabbitMQ is stopped here: no other test may use it meanwhile.
    fn: () =>
      withBrokerLock("exclusive", async () => {
        const pg = await freshPostgres();
        const homes = await Promise.all(
          Array.from({ length: s.daemons ?? 1 }, () => tempDir("stratavore-home-")),
        );
        const daemons: DaemonHandle[] = [];
        const env = { ...DAEMON_ENV, ...s.env };
        const consumer = await startConsumer("test.#");
        try {
          for (const home of homes) {
            daemons.push(await startDaemon({ home, databaseUrl: pg.url, env, keepHome: true }));
          }
          const producing = produce(pg.url, TOTAL);
          await eventually(() => consumer.received.size >= TOTAL / 3, 60_000, "a third delivered");
          await s.fault({
            daemons,
            url: pg.url,
            restart: async () => {
              daemons[0] = await startDaemon({
                home: homes[0],
                databaseUrl: pg.url,
                env,
                keepHome: true,
              });
            },
          });
          const ids = await producing;
          assertEquals(ids.length, TOTAL);
          try {
            await allDelivered(consumer, ids);
          } catch (e) {
            for (const d of daemons) {
              console.log(d.logs().filter((l) => !l.includes('"debug"')).slice(-15).join("\n"));
            }
            const sql = postgres(pg.url, { max: 1, onnotice: () => {} });
            console.log(
              await sql`SELECT count(*), min(id), max(id), max(attempts), bool_or(claimed_until > now()) AS leased,
            min(next_attempt_at) FROM outbox WHERE published_at IS NULL AND dead_at IS NULL`,
            );
            await sql.end();
            throw e;
          }
          await eventually(
            async () => (await unpublished(pg.url)).pending === 0,
            30_000,
            "every row marked published",
          );
          assertEquals((await unpublished(pg.url)).dead, 0);
          const dups = consumer.duplicates();
          console.log(
            `  ${s.name}: ${ids.length} events delivered, ${dups} published twice, ${consumer.redeliveries()} redelivered to the consumer`,
          );
          if (s.maxDuplicates !== undefined && dups > s.maxDuplicates) {
            for (const d of daemons) {
              console.log(d.logs().filter((l) => /"(warn|error)"/.test(l)).slice(-10).join("\n"));
            }
            const sql = postgres(pg.url, { max: 1, onnotice: () => {} });
            console.log(
              await sql`SELECT attempts, claimed_by, count(*), min(id), max(id), min(published_seq), max(published_seq)
            FROM outbox GROUP BY 1, 2 ORDER BY 1, 2`,
            );
            await sql.end();
            const twice = [...consumer.received.entries()].filter(([, n]) => n > 1).map(([id]) => id);
            console.log("published twice: ids", Math.min(...twice), "..", Math.max(...twice));
          }
          if (s.maxDuplicates !== undefined) assert(dups <= s.maxDuplicates, `${dups} duplicates`);
          if (s.checkOrder) {
            const last = new Map<string, number>();
            for (const b of consumer.bodies) {
              const key = `k${Number(b.payload.n) % 50}`;
              assert(
                (last.get(key) ?? -1) < Number(b.payload.n),
                `events of ${key} out of order at n=${b.payload.n}`,
              );
              last.set(key, Number(b.payload.n));
            }
          }
        } finally {
          await rabbitmqctl("start_app").catch(() => {});
          for (const d of daemons) await d.stop("SIGKILL").catch(() => {});
          await consumer.close();
          await pg.drop();
          for (const h of homes) await removeDir(h);
        }
      }),
  });
}

scenario({
  name: "daemon SIGKILLed mid-burst and restarted",
  async fault({ daemons, restart }) {
    assertEquals(await daemons[0].stop("SIGKILL"), 137);
    await new Promise((r) => setTimeout(r, 500));
    await restart();
  },
});

scenario({
  name: "RabbitMQ stopped and started mid-burst",
  async fault() {
    await rabbitmqctl("stop_app");
    await new Promise((r) => setTimeout(r, 2000));
    await rabbitmqctl("start_app");
  },
});

scenario({
  name: "PostgreSQL connections cut mid-burst",
  async fault({ url }) {
    const sql = postgres(url, { max: 1, onnotice: () => {} });
    try {
      for (let i = 0; i < 3; i++) {
        const killed = await sql`SELECT pg_terminate_backend(pid) FROM pg_stat_activity
          WHERE datname = current_database() AND application_name LIKE 'stratavore%' AND pid <> pg_backend_pid()`;
        assert(killed.length > 0 || i > 0, "the daemon had connections to cut");
        await new Promise((r) => setTimeout(r, 300));
      }
    } finally {
      await sql.end();
    }
  },
});

scenario({
  name: "two daemons relaying from one database",
  daemons: 2,
  maxDuplicates: 0,
  checkOrder: true,
  // No fault here, so the default lease: the 3 s one the fault scenarios use (to recover quickly) can run
  // out while a starved daemon (a loaded 2-core CI machine) is still publishing, and the other daemon then
  // publishes the same rows again, which is the at-least-once the faults allow but this scenario does not.
  env: { STRATAVORE_OUTBOX_LEASE: "30s" },
  async fault() {},
});

Deno.test({
  name:
    "events: a broker that nacks: rows are retried, then dead-lettered, never marked published [postgres, rabbitmq]",
  ignore,
  sanitizeOps: false,
  sanitizeResources: false,
  // The nacking queue is bound on the shared exchange: no other RabbitMQ test meanwhile.
  fn: () =>
    withBrokerLock("exclusive", async () => {
      const pg = await freshPostgres();
      const refusing = await refusingQueue("nack.#");
      const daemon = await startDaemon({
        databaseUrl: pg.url,
        env: { ...DAEMON_ENV, STRATAVORE_OUTBOX_MAX_ATTEMPTS: "3", STRATAVORE_OUTBOX_RETRY_DELAY: "50ms" },
      });
      try {
        const ids = await produce(pg.url, 5, "nack.test");
        const client = new StratavoreClient({ url: daemon.url, token: daemon.token });
        const dead = await eventually(
          async () => {
            const d = await client.deadEvents();
            return d.total === 5 ? d : undefined;
          },
          30_000,
          "five dead letters",
        );
        assertEquals(dead.events.map((e) => e.id).sort((a, b) => a - b), ids);
        for (const e of dead.events) {
          assertEquals(e.attempts, 3);
          assertEquals(e.lastError, "the broker nacked the message");
        }
        const sql = postgres(pg.url, { max: 1, onnotice: () => {} });
        const [{ n }] =
          await sql`SELECT count(*)::int AS n FROM outbox WHERE type = 'nack.test' AND published_at IS NOT NULL`;
        const announced = await sql`SELECT count(*)::int AS n FROM outbox WHERE type = 'event.dead_lettered'`;
        await sql.end();
        assertEquals(n, 0, "nothing marked published");
        assertEquals(announced[0].n, 5, "each dead letter is announced by an event");
        const env = { STRATAVORE_HOME: daemon.home };
        const listed = await runStratavore(["events", "dead", "--json"], { env });
        assertEquals(JSON.parse(listed.stdout).total, 5, listed.stderr);
        const table = await runStratavore(["events", "dead"], { env });
        assert(table.stdout.includes("the broker nacked the message"), table.stdout);
        // Retry from the CLI and the API: requeued, refused again, dead again.
        const retried = await runStratavore(["events", "retry", String(ids[1])], { env });
        assertEquals(retried.stdout.trim(), `requeued 1 event(s): ${ids[1]}`);
        assertEquals((await client.retryDead(ids[0])).requeued, [ids[0]]);
        await eventually(
          async () => (await client.deadEvents()).events.find((e) => e.id === ids[0])?.attempts === 3,
          30_000,
        );
      } finally {
        await daemon.stop("SIGKILL");
        await refusing.close();
        await pg.drop();
      }
    }),
});
