/** Applies the embedded migrations once, under an advisory lock, so concurrent daemons migrate once. */
import { type Migration, MIGRATIONS } from "../../migrations/mod.ts";
import { AppError } from "../errors.ts";
import type { Db } from "./types.ts";

/** Arbitrary but fixed: the advisory lock every daemon takes while migrating ("strat" in ASCII). */
export const MIGRATION_LOCK = 0x7374726174;

export interface MigrateResult {
  applied: string[];
  current: number;
}

export async function checksum(sql: string): Promise<string> {
  const data = new TextEncoder().encode(normalize(sql));
  const hash = await crypto.subtle.digest("SHA-256", data);
  return Array.from(new Uint8Array(hash), (b) => b.toString(16).padStart(2, "0")).join("");
}

/** A checkout with CRLF line endings (Windows) must not look like a changed migration. */
function normalize(sql: string): string {
  return sql.replace(/\r\n/g, "\n");
}

export async function migrate(db: Db, migrations: Migration[] = MIGRATIONS): Promise<MigrateResult> {
  const sums = await Promise.all(migrations.map((m) => checksum(m.sql)));
  return await db.transaction(async (tx) => {
    await tx.query("SELECT pg_advisory_xact_lock($1::bigint)", [MIGRATION_LOCK]);
    await tx.exec(`CREATE TABLE IF NOT EXISTS schema_migrations (
      version     integer PRIMARY KEY,
      name        text NOT NULL,
      checksum    text NOT NULL,
      applied_at  timestamptz NOT NULL DEFAULT now()
    )`);
    const done = await tx.query<{ version: number; name: string; checksum: string }>(
      "SELECT version, name, checksum FROM schema_migrations ORDER BY version",
    );
    const known = new Map(migrations.map((m, i) => [m.version, { m, sum: sums[i] }]));
    for (const row of done) {
      const mine = known.get(row.version);
      if (!mine) {
        throw new AppError(
          "migration_changed",
          `the database has migration ${row.name} that this stratavore does not know: it was upgraded by a newer version; run that version or a newer one`,
        );
      }
      if (mine.sum !== row.checksum) {
        throw new AppError(
          "migration_changed",
          `migration ${row.name} was changed after it was applied (checksum ${
            row.checksum.slice(0, 12)
          }… in the database, ${
            mine.sum.slice(0, 12)
          }… in this program): restore the original file and add the change as a new migration`,
        );
      }
    }
    const applied: string[] = [];
    const have = new Set(done.map((r) => r.version));
    for (const [i, m] of migrations.entries()) {
      if (have.has(m.version)) continue;
      await tx.exec(normalize(m.sql));
      await tx.query("INSERT INTO schema_migrations (version, name, checksum) VALUES ($1, $2, $3)", [
        m.version,
        m.name,
        sums[i],
      ]);
      applied.push(m.name);
    }
    return { applied, current: migrations.at(-1)?.version ?? 0 };
  });
}
