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
