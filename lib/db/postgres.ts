/** A real PostgreSQL server through postgres.js: a small pool plus one listening connection. */
import postgres from "postgres";
import { maskUrl } from "../config.ts";
import { log } from "../log.ts";
import type { Db, Queryable } from "./types.ts";

type Sql = postgres.Sql | postgres.TransactionSql;

function wrap(sql: Sql): Queryable {
  return {
    async query<T>(text: string, params: unknown[] = []) {
      // Prepared statements: the daemon runs a small set of statements very often (heartbeats).
      const rows = await sql.unsafe(text, params as postgres.ParameterOrJSON<never>[], { prepare: true });
      return Array.from(rows) as unknown as T[]; // a plain array, like PGlite
    },
    async exec(script: string) {
      await sql.unsafe(script);
    },
  };
}

export interface PostgresOptions {
  max?: number;
  /** Name shown in pg_stat_activity, so operators (and tests) can find the daemon's connections. */
  applicationName?: string;
  /**
   * false: commits do not wait for the WAL flush. Only for telemetry (heartbeats), where losing the last
   * few milliseconds in a server crash is harmless because the next heartbeat rewrites the same row.
   */
  synchronousCommit?: boolean;
}

/**
 * postgres.js 3.4.9 can write to a connection whose socket is already gone (a write scheduled with
 * setImmediate after the server closed it): a TypeError thrown from a timer, which would end the daemon
 * (porsager/postgres#1154, #1208; fixes not released). The in-flight query has already been rejected with
 * CONNECTION_CLOSED and the pool reconnects, so only that exact error is stopped from ending the process.
 */
let guardInstalled = false;
function guardNullSocketWrites(): void {
  if (guardInstalled) return;
  guardInstalled = true;
  globalThis.addEventListener("error", (event) => {
    const e = event.error as Error | undefined;
    if (
      e instanceof TypeError && /reading 'write'/.test(e.message) &&
      /postgres@[\d.]+\/node_modules\/postgres\/src\/connection\.js/.test(e.stack ?? "")
    ) {
      event.preventDefault();
      log.warn(
        "postgres.js wrote to a closed connection (upstream bug #1154); the query was already failed, continuing",
      );
    }
  });
}

export function openPostgres(url: string, opts: PostgresOptions = {}): Db {
  guardNullSocketWrites();
  const sql = postgres(url, {
    max: opts.max ?? 10,
    onnotice: () => {},
    idle_timeout: 60,
    connect_timeout: 10,
    connection: {
      application_name: opts.applicationName ?? "stratavore",
      ...(opts.synchronousCommit === false ? { synchronous_commit: "off" } : {}),
    },
    types: {
      bigint: {
        to: 20,
        from: [20],
        serialize: (x: unknown) => String(x),
        parse: (x: string) => Number(x),
      },
    },
  });
  const base = wrap(sql);
  return {
    kind: "postgres",
    location: maskUrl(url),
    query: base.query,
    exec: base.exec,
    transaction: <T>(fn: (tx: Queryable) => Promise<T>) => sql.begin((tx) => fn(wrap(tx))) as Promise<T>,
    async listen(channel, onMessage, onListen) {
      // postgres.js keeps a dedicated connection for LISTEN and re-subscribes after it reconnects.
      const sub = await sql.listen(channel, (payload) => onMessage(payload), () => onListen?.());
      return () => sub.unlisten();
    },
    close: () => sql.end({ timeout: 5 }),
  };
}
