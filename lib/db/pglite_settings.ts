/**
 * PostgreSQL settings of the embedded database. PGlite's defaults are a server's: initdb writes
 * shared_buffers = 128MB and max_connections = 100, and in WebAssembly all of it is resident in the daemon
 * (shared memory is ordinary heap there). PGlite has one connection, and Stratavore's working set is a few
 * MB, with the operating system's page cache behind the files: bench/footprint.ts measured the daemon at rest
 * before and after (docs/performance.md).
 */
import { PGlite } from "@electric-sql/pglite";

export const PGLITE_SETTINGS: Record<string, string> = {
  shared_buffers: "8MB",
  max_connections: "10",
};

/** PGlite's own start parameters plus ours (`-c name=value` overrides postgresql.conf). */
export function pgliteStartParams(): string[] {
  return [
    ...PGlite.defaultStartParams,
    ...Object.entries(PGLITE_SETTINGS).flatMap(([k, v]) => ["-c", `${k}=${v}`]),
  ];
}
