/** The outbox queue's SQL on both backends: claims, per-key order, leases, retries, dead letters, pruning. */
import { assert, assertEquals } from "../helpers/assert.ts";
import { eachBackend } from "../helpers/db.ts";
import type { Db, Queryable } from "../../lib/db/types.ts";
import {
  claimBatch,
  fail,
  lastPublishedSeq,
  markPublished,
  nextDueIn,
  prunePublished,
  publishedSince,
  release,
  releaseOwn,
} from "../../daemon/outbox/queue.ts";
import { emit } from "../../daemon/store/outbox.ts";
import type { PublishResult } from "../../daemon/outbox/amqp.ts";
import { Relay } from "../../daemon/outbox/relay.ts";
import type { EventEnvelope } from "../../lib/schemas/event.ts";
import { Logger } from "../../lib/log.ts";

async function add(db: Db, key: string, n: number): Promise<number[]> {
  const ids: number[] = [];
  await db.transaction(async (tx) => {
    for (let i = 0; i < n; i++) {
      ids.push(await emit(tx, { type: "test.x", entityId: key, orderingKey: key, payload: { i } }));
    }
  });
  return ids;
}

const OPTS = { maxAttempts: 2, retryBaseMs: 60_000 };

eachBackend("outbox: a claim takes due rows in id order and leases them to one owner", async ({ db }) => {
  const a = await add(db, "a", 3);
  const b = await add(db, "b", 2);
  const first = await claimBatch(db, "one", 4, 30_000);
  assertEquals(first.map((r) => r.id), [...a, b[0]]);
  assert(first.every((r) => r.attempts === 1));
  // Row b[1] is due, but b[0] (same key) is leased to "one": a second relay must not overtake it.
  assertEquals((await claimBatch(db, "two", 10, 30_000)).map((r) => r.id), []);
  await markPublished(db, [b[0]]);
  assertEquals((await claimBatch(db, "two", 10, 30_000)).map((r) => r.id), [b[1]]);
});

eachBackend("outbox: published rows are numbered in id order and read back by seq", async ({ db }) => {
  const ids = await add(db, "k", 4);
  const rows = await claimBatch(db, "me", 10, 30_000);
  const seq = await markPublished(db, [rows[2].id, rows[0].id, rows[3].id, rows[1].id]);
  assertEquals(seq, await lastPublishedSeq(db));
  const back = await publishedSince(db, seq! - 4, 10);
  assertEquals(back.map((r) => r.id), ids);
  assertEquals(back.map((r) => r.published_seq), [seq! - 3, seq! - 2, seq! - 1, seq!]);
  assertEquals(await markPublished(db, [ids[0]]), undefined, "marking again changes nothing");
});

eachBackend(
  "outbox: a refused row waits for its retry and blocks its key; then it is dead-lettered",
  async ({ db }) => {
    const [x1, x2] = await add(db, "x", 2);
    let [row] = await claimBatch(db, "me", 1, 30_000);
    assertEquals(await fail(db, row, "nacked", OPTS), "retry");
    assertEquals(await claimBatch(db, "me", 10, 30_000), [], "x1 waits for its retry, x2 waits behind it");
    await db.query("UPDATE outbox SET next_attempt_at = now() WHERE id = $1", [x1]);
    [row] = await claimBatch(db, "me", 1, 30_000);
    assertEquals([row.id, row.attempts], [x1, 2]);
    assertEquals(await fail(db, row, "nacked again", OPTS), "dead");
    const [dead] = await db.query<{ dead_at: Date | null; last_error: string }>(
      "SELECT dead_at, last_error FROM outbox WHERE id = $1",
      [x1],
    );
    assert(dead.dead_at !== null);
    assertEquals(dead.last_error, "nacked again");
    const next = await claimBatch(db, "me", 10, 30_000);
    assertEquals(
      next.map((r) => r.type).sort(),
      ["event.dead_lettered", "test.x"],
      "x2 flows again; the loss is announced",
    );
    assertEquals(next.find((r) => r.type === "test.x")!.id, x2);
  },
);

eachBackend(
  "outbox: released rows keep their attempt count; a restarted owner frees its leases",
  async ({ db }) => {
    const [id] = await add(db, "r", 1);
    let [row] = await claimBatch(db, "me", 1, 30_000);
    await release(db, [row.id]);
    [row] = await claimBatch(db, "me", 1, 30_000);
    assertEquals([row.id, row.attempts], [id, 1], "a release does not count as an attempt");
    assertEquals(await claimBatch(db, "other", 1, 30_000), [], "still leased");
    assertEquals(await releaseOwn(db, "me"), 1);
    assertEquals((await claimBatch(db, "other", 1, 30_000)).map((r) => r.id), [id]);
  },
);

eachBackend("outbox: an expired lease lets another relay take the row", async ({ db }) => {
  const [id] = await add(db, "l", 1);
  await claimBatch(db, "crashed", 1, 1);
  await new Promise((r) => setTimeout(r, 20));
  assertEquals((await claimBatch(db, "alive", 1, 30_000)).map((r) => r.id), [id]);
});

eachBackend("outbox: published rows older than the retention are pruned, others kept", async ({ db }) => {
  const [old, recent] = await add(db, "p", 2);
  const [pending] = await add(db, "q", 1);
  await markPublished(db, [old, recent]);
  await db.query("UPDATE outbox SET published_at = now() - interval '8 days' WHERE id = $1", [old]);
  assertEquals(await prunePublished(db, 7 * 86_400_000), 1);
  const left = await db.query<{ id: number }>(
    "SELECT id FROM outbox WHERE id = ANY($1::bigint[]) ORDER BY id",
    [[
      old,
      recent,
      pending,
    ]],
  );
  assertEquals(left.map((r) => r.id), [recent, pending]);
});

eachBackend("outbox: the next due time is the earliest key head's retry or lease", async ({ db }) => {
  assertEquals(await nextDueIn(db), undefined, "nothing pending");
  const [h] = await add(db, "h", 2);
  assertEquals(await nextDueIn(db), 0, "due now");
  const [row] = await claimBatch(db, "me", 1, 30_000);
  assertEquals(row.id, h);
  const leased = (await nextDueIn(db))!;
  assert(leased > 25_000 && leased <= 30_000, `the lease ends in ~30 s, not ${leased}`);
  await fail(db, row, "nacked", OPTS); // retry in 45–75 s; the row behind it waits and does not count
  const retry = (await nextDueIn(db))!;
  assert(retry > 40_000 && retry <= 75_000, `the retry is due in 45–75 s, not ${retry}`);
});

/** A publisher that counts what it was given and refuses the first `refuse` events. */
class CountingPublisher {
  readonly kind = "embedded" as const;
  readonly location = "test";
  published: number[] = [];
  constructor(private refuse: number) {}
  ready() {
    return Promise.resolve(true);
  }
  publish(events: { envelope: EventEnvelope }[]): Promise<PublishResult[]> {
    return Promise.resolve(events.map((e) => {
      if (this.refuse > 0) {
        this.refuse--;
        return { ok: false as const, kind: "refused" as const, error: "nacked" };
      }
      this.published.push(e.envelope.id);
      return { ok: true as const };
    }));
  }
  close() {
    return Promise.resolve();
  }
}

async function until(what: string, ok: () => boolean, ms = 10_000): Promise<void> {
  const end = Date.now() + ms;
  while (!ok()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

eachBackend(
  "relay: with a one-minute backstop it publishes on NOTIFY, retries when the retry falls due, and does not poll at rest",
  async ({ db }) => {
    const pub = new CountingPublisher(1);
    const log = new Logger({
      level: "error",
      json: true,
      sink: { write: () => {}, isTerminal: () => false },
      secrets: new Set(),
    });
    const relay = new Relay(db, pub, {
      owner: "t",
      leaseMs: 30_000,
      pollMs: 60_000,
      maxAttempts: 5,
      retryBaseMs: 300,
      log,
    });
    let queries = 0;
    const { query, transaction } = db;
    db.query = (...a: Parameters<Db["query"]>) => {
      queries++;
      return query(...a);
    };
    db.transaction = <T>(fn: (tx: Queryable) => Promise<T>) => {
      queries++;
      return transaction(fn);
    };
    await relay.start();
    try {
      const t0 = Date.now();
      const [id] = await add(db, "n", 1);
      // Refused once, retried ~225–375 ms later without waiting for the backstop.
      await until("the retried event", () => pub.published.length === 1, 5000);
      assert(Date.now() - t0 < 5000);
      const [second] = await add(db, "n", 1);
      await until("the NOTIFY-woken publish", () => pub.published.length === 2, 5000);
      assertEquals(pub.published.length, 2);
      assert(id < second);
      await new Promise((r) => setTimeout(r, 300));
      const before = queries;
      await new Promise((r) => setTimeout(r, 1500));
      assertEquals(queries - before, 0, "nothing pending: the relay sleeps");
    } finally {
      db.query = query;
      db.transaction = transaction;
      await relay.stop();
    }
  },
);
