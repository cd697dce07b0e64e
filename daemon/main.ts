/** `stratavore daemon`: open the database → migrate → start servers and loops → wait → shut down in order. */
import { contextFrom, type GlobalOptions } from "../cli/context.ts";
import { AppError } from "../lib/errors.ts";
import { lockHome } from "../lib/home.ts";
import { log } from "../lib/log.ts";
import { migrate } from "../lib/db/migrate.ts";
import { openDb } from "../lib/db/open.ts";
import type { Db } from "../lib/db/types.ts";
import { onStopSignal } from "../lib/signals.ts";

export async function runDaemon(opts: GlobalOptions): Promise<void> {
  const { loaded } = contextFrom(opts);
  const config = loaded.config;
  const lock = await lockHome(config.home);
  const db = await openDatabase(config);
  const describe = db.kind === "embedded"
    ? `embedded PGlite in ${db.location}`
    : `PostgreSQL at ${db.location}`;
  log.info(`stratavore daemon ready; data: ${describe}`, { home: config.home });

  const signal = await new Promise<Deno.Signal>((resolve) => {
    const off = onStopSignal((sig) => {
      off();
      resolve(sig);
    });
  });
  log.info("shutting down", { signal });
  const watchdog = setTimeout(() => {
    log.error("shutdown took too long; exiting", { limitMs: config.shutdownTimeout });
    Deno.exit(1);
  }, config.shutdownTimeout);
  await db.close();
  lock.close();
  clearTimeout(watchdog);
  log.info("stopped");
}

export async function openDatabase(config: { databaseUrl?: string; home: string }): Promise<Db> {
  let db: Db;
  try {
    db = await openDb(config, "stratavore-daemon");
    const result = await migrate(db);
    if (result.applied.length) {
      log.info("database migrated", { applied: result.applied, version: result.current });
    }
    return db;
  } catch (e) {
    if (e instanceof AppError) throw e;
    const where = config.databaseUrl ? "PostgreSQL (DATABASE_URL)" : "the embedded database";
    throw new AppError("failed", `cannot open ${where}: ${(e as Error).message}`);
  }
}
