/** The Db interface behaves the same on PGlite and PostgreSQL. */
import { assert, assertEquals, assertRejects } from "../helpers/assert.ts";
import { eachBackend } from "../helpers/db.ts";
import { sqlState, UNIQUE_VIOLATION } from "../../lib/db/types.ts";

eachBackend("db: parameters and types round-trip the same on both backends", async ({ db }) => {
  const [row] = await db.query<Record<string, unknown>>(
    "SELECT $1::int8 AS big, $2::jsonb AS doc, $3::timestamptz AS at, $4::text AS nothing, $5::bigint[] AS ids, 2.5::float8 AS f",
    [9_007_199_254_740_000, { a: [1, "x"], b: null }, new Date("2026-01-02T03:04:05Z"), null, [1, 2, 3]],
  );
  assertEquals(row.big, 9_007_199_254_740_000);
  assertEquals(row.doc, { a: [1, "x"], b: null });
  assertEquals((row.at as Date).toISOString(), "2026-01-02T03:04:05.000Z");
  assertEquals(row.nothing, null);
  assertEquals(row.ids, [1, 2, 3]);
  assertEquals(row.f, 2.5);
});

eachBackend("db: a transaction commits on success and rolls back on error", async ({ db }) => {
  await db.exec("CREATE TABLE t (id int PRIMARY KEY, v text); CREATE TABLE u (id int)");
  await db.transaction(async (tx) => {
    await tx.query("INSERT INTO t VALUES ($1, $2)", [1, "kept"]);
  });
  await assertRejects(
    () =>
      db.transaction(async (tx) => {
        await tx.query("INSERT INTO t VALUES ($1, $2)", [2, "lost"]);
        throw new Error("boom");
      }),
    Error,
    "boom",
  );
  const e = await assertRejects(() =>
    db.transaction(async (tx) => {
      await tx.query("INSERT INTO t VALUES ($1, $2)", [3, "lost too"]);
      await tx.query("INSERT INTO t VALUES ($1, $2)", [1, "duplicate"]);
    })
  );
  assertEquals(sqlState(e), UNIQUE_VIOLATION);
  assertEquals(await db.query("SELECT id, v FROM t ORDER BY id"), [{ id: 1, v: "kept" }]);
});

eachBackend(
  "db: transaction-scoped advisory locks serialise concurrent critical sections",
  async ({ db }) => {
    await db.exec("CREATE TABLE counter (n int NOT NULL); INSERT INTO counter VALUES (0)");
    // Read-then-write under the lock: without mutual exclusion some increments would be lost.
    await Promise.all(Array.from({ length: 20 }, () =>
      db.transaction(async (tx) => {
        await tx.query("SELECT pg_advisory_xact_lock(hashtext($1)::bigint)", ["counter"]);
        const [{ n }] = await tx.query<{ n: number }>("SELECT n FROM counter");
        await new Promise((r) => setTimeout(r, 2));
        await tx.query("UPDATE counter SET n = $1", [n + 1]);
      })));
    assertEquals(await db.query("SELECT n FROM counter"), [{ n: 20 }]);
  },
);

eachBackend("db: LISTEN/NOTIFY delivers on commit, never on rollback", async ({ db }) => {
  const got: string[] = [];
  let listening = 0;
  const off = await db.listen("sv_test", (p) => got.push(p), () => listening++);
  assert(listening >= 1, "onListen ran");
  await db.transaction(async (tx) => {
    await tx.query("SELECT pg_notify('sv_test', $1)", ["committed"]);
  });
  await assertRejects(() =>
    db.transaction(async (tx) => {
      await tx.query("SELECT pg_notify('sv_test', $1)", ["rolled back"]);
      throw new Error("abort");
    })
  );
  await db.query("SELECT pg_notify('sv_test', $1)", ["plain"]);
  const deadline = Date.now() + 5000;
  while (got.length < 2 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
  await new Promise((r) => setTimeout(r, 100));
  assertEquals(got, ["committed", "plain"]);
  await off();
});

eachBackend("db: exec runs a script of several statements", async ({ db }) => {
  await db.exec("CREATE TABLE a (x int); INSERT INTO a VALUES (1); INSERT INTO a VALUES (2);");
  assertEquals(await db.query("SELECT sum(x)::int AS s FROM a"), [{ s: 3 }]);
});

eachBackend(
  "db: array parameters survive quotes, backslashes and commas, from the first query on",
  async ({ db }) => {
    const texts = ['a"b', "c\\d", "x,y", "{z}", "", "NULL", "runner.*"];
    // Many at once, so some reach connections that were just opened (postgres.js loads array types per
    // connection; arrays bound before that used to arrive as "1" and fail).
    const rows = await Promise.all(
      Array.from(
        { length: 20 },
        (_, i) =>
          db.query<{ t: string[]; n: number[] }>("SELECT $1::text[] AS t, $2::bigint[] AS n", [
            texts,
            [
              i,
              2,
            ],
          ]),
      ),
    );
    for (const [i, [row]] of rows.entries()) {
      assertEquals(row.t, texts);
      assertEquals(row.n, [i, 2]);
    }
  },
);

eachBackend(
  "db: bigint past 2^53 is a number on both backends (never a BigInt that JSON cannot carry)",
  async ({ db }) => {
    const [row] = await db.query<Record<string, unknown>>(
      "SELECT 9223372036854775807::int8 AS max, sum(x) AS s FROM (VALUES (9007199254740991::int8), (9007199254740991::int8)) v(x)",
    );
    assertEquals(typeof row.max, "number");
    JSON.stringify(row);
  },
);
