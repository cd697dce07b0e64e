/** Chooses the backend: PostgreSQL when DATABASE_URL is set, embedded PGlite in $STRATAVORE_HOME/data otherwise. */
import type { Config } from "../config.ts";
import type { Db } from "./types.ts";

export function dataDir(home: string): string {
  return `${home}${Deno.build.os === "windows" ? "\\" : "/"}data`;
}

export async function openDb(
  config: Pick<Config, "databaseUrl" | "home">,
  applicationName?: string,
): Promise<Db> {
  if (config.databaseUrl) {
    const { openPostgres } = await import("./postgres.ts");
    return openPostgres(config.databaseUrl, { applicationName });
  }
  const { openPglite } = await import("./pglite.ts");
  return await openPglite(dataDir(config.home));
}

/**
 * The connection pool for heartbeat writes. On PostgreSQL it is a small separate pool whose commits do not
 * wait for the WAL flush (telemetry rewrites the same rows every few seconds); PGlite has one connection,
 * so it is the main database itself.
 */
export async function openTelemetryDb(config: Pick<Config, "databaseUrl">, main: Db): Promise<Db> {
  if (!config.databaseUrl) return main;
  const { openPostgres } = await import("./postgres.ts");
  return openPostgres(config.databaseUrl, {
    max: 4,
    applicationName: "stratavore-heartbeats",
    synchronousCommit: false,
  });
}
