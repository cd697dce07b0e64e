/**
 * One poller among several daemons sharing a PostgreSQL database: whoever holds a session advisory lock on
 * a dedicated connection leads. The lock goes with the connection, so a daemon that dies or loses its
 * connection gives it up at once, and another takes over on its next try. PGlite has one daemon: it leads.
 */
import type { Db } from "../../lib/db/types.ts";

export interface Leadership {
  /** Whether this daemon leads now (checked again every call). */
  check(): Promise<boolean>;
  close(): Promise<void>;
}

/** The lock's key (a single bigint key is held as classid 0, objid key, objsubid 1). */
const KEY = 0x73766274; // "svbt"

export function alwaysLeader(): Leadership {
  return { check: () => Promise.resolve(true), close: () => Promise.resolve() };
}

/** Leadership through a session lock on its own one-connection pool. */
export function advisoryLeadership(conn: Db): Leadership {
  return {
    async check() {
      // A reconnected pool is a new session that no longer holds the lock: ask pg_locks, not a flag.
      const [r] = await conn.query<{ leader: boolean }>(
        `SELECT CASE WHEN EXISTS (
           SELECT 1 FROM pg_locks WHERE locktype = 'advisory' AND pid = pg_backend_pid() AND granted
             AND classid = 0 AND objid = $1 AND objsubid = 1)
         THEN true ELSE pg_try_advisory_lock($1::bigint) END AS leader`,
        [KEY],
      );
      return r.leader;
    },
    close: () => conn.close(),
  };
}
