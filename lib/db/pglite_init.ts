/**
 * A PGlite data folder's first start (lib/db/pglite.ts) in a process of its own: PGlite runs initdb in a
 * second instance and copies the folder's image through memory, which left the daemon ~350 MB larger for as
 * long as it ran (a WebAssembly heap is never given back). Run in a worker it still left ~75 MB (the worker's
 * freed memory stays with the process's allocator); a process of its own gives everything back.
 * `stratavore pglite-init <dir>` (hidden), or this module run directly under `deno run`.
 */
import { PGlite } from "@electric-sql/pglite";
import { pgliteStartParams } from "./pglite_settings.ts";

export async function initPgliteDir(dataDir: string): Promise<void> {
  const pg = await PGlite.create(dataDir, { startParams: pgliteStartParams() });
  await pg.close();
}

if (import.meta.main) await initPgliteDir(Deno.args[0]);
