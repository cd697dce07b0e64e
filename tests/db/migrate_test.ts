import { assert, assertEquals, assertRejects } from "../helpers/assert.ts";
import { eachBackend, freshPostgres } from "../helpers/db.ts";
import { migrate } from "../../lib/db/migrate.ts";
import { openPostgres } from "../../lib/db/postgres.ts";
import { MIGRATIONS } from "../../migrations/mod.ts";
import { AppError } from "../../lib/errors.ts";
import { SKIP_PG } from "../helpers/env.ts";

const TABLES = [
  "agent_tokens",
  "audit_log",
  "budget_usage",
  "budgets",
  "daemons",
  "heartbeat_stats",
  "notifications",
  "outbox",
  "projects",
  "runner_usage",
  "runners",
  "schema_migrations",
  "sessions",
  "token_usage",
  "transcripts",
];

eachBackend("migrate: applies every migration once, then nothing", async ({ db }) => {
  const first = await migrate(db);
  assertEquals(first.applied, MIGRATIONS.map((m) => m.name));
  const tables = await db.query<{ table_name: string }>(
    "SELECT table_name FROM information_schema.tables WHERE table_schema = 'public' ORDER BY table_name",
  );
  for (const t of TABLES) assert(tables.some((r) => r.table_name === t), `table ${t} exists`);
  const again = await migrate(db);
  assertEquals(again.applied, []);
  assertEquals(again.current, MIGRATIONS.at(-1)!.version);
}, { empty: true });

eachBackend("migrate: a changed applied migration stops with a clear error", async ({ db }) => {
  await migrate(db);
  const changed = MIGRATIONS.map((m, i) => (i === 0 ? { ...m, sql: m.sql + "\n-- edited\n" } : m));
  const e = await assertRejects(() => migrate(db, changed), AppError);
  assertEquals(e.code, "migration_changed");
  assert(e.message.includes("001_init was changed after it was applied"), e.message);
}, { empty: true });

eachBackend("migrate: CRLF line endings do not count as a change", async ({ db }) => {
  await migrate(db);
  const crlf = MIGRATIONS.map((m) => ({ ...m, sql: m.sql.replace(/\n/g, "\r\n") }));
  assertEquals((await migrate(db, crlf)).applied, []);
}, { empty: true });

eachBackend("migrate: a database migrated by a newer version is refused", async ({ db }) => {
  const newer = [...MIGRATIONS, { version: 999, name: "999_future", sql: "CREATE TABLE future (x int)" }];
  await migrate(db, newer);
  const e = await assertRejects(() => migrate(db), AppError);
  assert(e.message.includes("999_future"), e.message);
}, { empty: true });

Deno.test({
  name: "migrate: five concurrent migrators on one PostgreSQL migrate once [postgres]",
  ignore: SKIP_PG,
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    const fresh = await freshPostgres({ empty: true });
    const dbs = Array.from({ length: 5 }, () => openPostgres(fresh.url));
    try {
      const results = await Promise.all(dbs.map((db) => migrate(db)));
      assertEquals(results.filter((r) => r.applied.length > 0).length, 1);
      const rows = await dbs[0].query("SELECT version FROM schema_migrations");
      assertEquals(rows.length, MIGRATIONS.length);
    } finally {
      await Promise.all(dbs.map((db) => db.close()));
      await fresh.drop();
    }
  },
});
