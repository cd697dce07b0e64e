/** Several daemons on one PostgreSQL: they migrate once and share projects, runners and quotas. */
import postgres from "postgres";
import { assertEquals } from "../helpers/assert.ts";
import { startDaemon } from "../helpers/daemon.ts";
import { freshPostgres } from "../helpers/db.ts";
import { FAST_TIER, SKIP_PG } from "../helpers/env.ts";
import { StratavoreClient } from "../../lib/client.ts";
import { MIGRATIONS } from "../../migrations/mod.ts";

Deno.test({
  name: "daemons: two started at once on an empty PostgreSQL migrate once and share quotas [postgres]",
  ignore: SKIP_PG || FAST_TIER,
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    const pg = await freshPostgres({ empty: true });
    const [a, b] = await Promise.all([
      startDaemon({ databaseUrl: pg.url }),
      startDaemon({ databaseUrl: pg.url }),
    ]);
    try {
      const sql = postgres(pg.url, { max: 1, onnotice: () => {} });
      const rows = await sql`SELECT version FROM schema_migrations ORDER BY version`;
      const daemons = await sql`SELECT count(*)::int AS n FROM daemons`;
      await sql.end();
      assertEquals(rows.map((r) => r.version), MIGRATIONS.map((m) => m.version));
      assertEquals(daemons[0].n, 2);
      const migratedBy = [a, b].filter((d) => d.logs().some((l) => l.includes('"database migrated"')));
      assertEquals(migratedBy.length, 1, "exactly one daemon applied the migrations");

      // Launches spread over both daemons still respect one quota.
      const ca = new StratavoreClient({ url: a.url, token: a.token });
      const cb = new StratavoreClient({ url: b.url, token: b.token });
      await ca.createProject({ name: "shared", path: "/tmp", maxRunners: 4 });
      const results = await Promise.allSettled(
        Array.from({ length: 20 }, (_, i) => (i % 2 ? ca : cb).launch({ project: "shared" })),
      );
      assertEquals(results.filter((r) => r.status === "fulfilled").length, 4);
    } finally {
      await a.stop();
      await b.stop();
      await pg.drop();
    }
  },
});
