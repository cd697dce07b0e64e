/**
 * Storage tests against both backends. PGlite's first open runs initdb (~3 s), so one migrated template
 * folder is made per test run (keyed by the migrations) and copied for each test; PostgreSQL gets a fresh
 * database per test, cloned from a migrated template database, dropped afterwards.
 */
import postgres from "postgres";
import { MIGRATIONS } from "../../migrations/mod.ts";
import { checksum, migrate } from "../../lib/db/migrate.ts";
import { openPglite } from "../../lib/db/pglite.ts";
import { openPostgres } from "../../lib/db/postgres.ts";
import type { Db } from "../../lib/db/types.ts";
import { PG_ADMIN_URL, SKIP_PG } from "./env.ts";
import { copyDir, removeDir, tempDir, TEST_TMP } from "./fs.ts";

const PGLITE_VERSION = "0.5.16";

async function schemaKey(): Promise<string> {
  const sums = await Promise.all(MIGRATIONS.map((m) => checksum(m.sql)));
  return (await checksum(PGLITE_VERSION + sums.join(""))).slice(0, 16);
}

/** A PGlite data folder in the test cache, built once by `build` (several test processes may race). */
async function cachedPglite(name: string, build: (db: Db) => Promise<unknown>): Promise<string> {
  const base = `${TEST_TMP}/stratavore-test-cache`;
  const dir = `${base}/${name}`;
  try {
    await Deno.stat(`${dir}/PG_VERSION`);
    return dir;
  } catch { /* build it */ }
  await Deno.mkdir(base, { recursive: true });
  const building = await Deno.makeTempDir({ dir: base, prefix: "building-" });
  const db = await openPglite(building);
  await build(db);
  await db.close();
  try {
    await Deno.rename(building, dir);
  } catch {
    await removeDir(building); // another process won the race; theirs is identical
  }
  return dir;
}

let templateDir: Promise<string> | undefined;
let emptyDir: Promise<string> | undefined;

/** A migrated PGlite data folder shared by the whole run (and later runs with the same migrations). */
export function pgliteTemplate(): Promise<string> {
  templateDir ??= schemaKey().then((key) => cachedPglite(`pglite-${key}`, (db) => migrate(db)));
  return templateDir;
}

/** An initialised, unmigrated PGlite data folder: initdb (seconds) runs once, not in every test. */
function emptyPgliteTemplate(): Promise<string> {
  emptyDir ??= cachedPglite(`pglite-empty-${PGLITE_VERSION}`, async () => {});
  return emptyDir;
}

/** A fresh PGlite data folder copied from the migrated template, or from the unmigrated one (`empty`). */
export async function freshPgliteDir(opts: { empty?: boolean } = {}): Promise<string> {
  const dir = await tempDir("stratavore-pglite-");
  await copyDir(await (opts.empty ? emptyPgliteTemplate() : pgliteTemplate()), dir);
  return dir;
}

let pgTemplate: Promise<string> | undefined;

function adminSql() {
  return postgres(PG_ADMIN_URL, { max: 1, onnotice: () => {} });
}

function urlFor(database: string): string {
  const u = new URL(PG_ADMIN_URL);
  u.pathname = `/${database}`;
  return u.toString();
}

/** A migrated template database, made once per run. */
function postgresTemplate(): Promise<string> {
  pgTemplate ??= (async () => {
    const name = `stratavore_tpl_${await schemaKey()}`;
    const sql = adminSql();
    try {
      const found = await sql`SELECT 1 FROM pg_database WHERE datname = ${name}`;
      if (found.length === 0) {
        const building = `${name}_b${crypto.randomUUID().slice(0, 8)}`;
        await sql.unsafe(`CREATE DATABASE ${building}`);
        const db = openPostgres(urlFor(building));
        await migrate(db);
        await db.close();
        try {
          await sql.unsafe(`ALTER DATABASE ${building} RENAME TO ${name}`);
        } catch {
          await sql.unsafe(`DROP DATABASE IF EXISTS ${building}`);
        }
      }
      return name;
    } finally {
      await sql.end();
    }
  })();
  return pgTemplate;
}

export interface FreshPostgres {
  url: string;
  name: string;
  drop(): Promise<void>;
}

/** A new database: migrated (from the template) unless `empty`. */
export async function freshPostgres(opts: { empty?: boolean } = {}): Promise<FreshPostgres> {
  const template = opts.empty ? "template0" : await postgresTemplate();
  const name = `stratavore_t_${crypto.randomUUID().replace(/-/g, "").slice(0, 12)}`;
  const sql = adminSql();
  try {
    await sql.unsafe(`CREATE DATABASE ${name} TEMPLATE ${template}`);
  } finally {
    await sql.end();
  }
  return {
    url: urlFor(name),
    name,
    async drop() {
      const admin = adminSql();
      try {
        await admin.unsafe(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      } finally {
        await admin.end();
      }
    },
  };
}

export type BackendName = "pglite" | "postgres";

export interface TestDb {
  db: Db;
  backend: BackendName;
  /** DATABASE_URL for a daemon subprocess sharing this database (postgres only). */
  url?: string;
  /** PGlite folder (pglite only). */
  dir?: string;
}

export interface BackendTestOptions {
  /** Start from an empty database instead of a migrated one. */
  empty?: boolean;
  ignore?: boolean;
}

/** Registers `name [pglite]` and `name [postgres]`; the second is ignored only outside CI without a server. */
export function eachBackend(
  name: string,
  fn: (t: TestDb) => Promise<void>,
  opts: BackendTestOptions = {},
): void {
  Deno.test({
    name: `${name} [pglite]`,
    ignore: opts.ignore,
    sanitizeOps: false,
    sanitizeResources: false,
    async fn() {
      const dir = await freshPgliteDir({ empty: opts.empty });
      const db = await openPglite(dir);
      try {
        await fn({ db, backend: "pglite", dir });
      } finally {
        await db.close().catch(() => {});
        await removeDir(dir);
      }
    },
  });
  Deno.test({
    name: `${name} [postgres]`,
    ignore: opts.ignore || SKIP_PG,
    sanitizeOps: false,
    sanitizeResources: false,
    async fn() {
      const fresh = await freshPostgres({ empty: opts.empty });
      const db = openPostgres(fresh.url);
      try {
        await fn({ db, backend: "postgres", url: fresh.url });
      } finally {
        await db.close().catch(() => {});
        await fresh.drop();
      }
    },
  });
}
