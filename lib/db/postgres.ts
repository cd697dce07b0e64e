/** A real PostgreSQL server through postgres.js: a small pool plus one listening connection. */
import postgres from "postgres";
import { maskUrl } from "../config.ts";
import { log } from "../log.ts";
import type { Db, Queryable } from "./types.ts";

type Sql = postgres.Sql | postgres.TransactionSql;

/** Which parameters a statement casts to an array type (`$2::bigint[]`), by statement text. */
const arrayParamsOf = new Map<string, Set<number>>();

function arrayParams(text: string): Set<number> {
  let found = arrayParamsOf.get(text);
  if (!found) {
    found = new Set([...text.matchAll(/\$(\d+)::\w+\[\]/g)].map((m) => Number(m[1]) - 1));
    if (arrayParamsOf.size > 1000) arrayParamsOf.clear(); // statements are a fixed set; stay bounded anyway
    arrayParamsOf.set(text, found);
  }
  return found;
}

/** A PostgreSQL array literal: numbers as they are, everything else quoted and escaped. */
export function pgArrayLiteral(xs: readonly unknown[]): string {
  return "{" +
    xs.map((x) =>
      x === null || x === undefined
        ? "NULL"
        : typeof x === "number" || typeof x === "bigint"
        ? String(x)
        : `"${String(x).replace(/\\/g, "\\\\").replace(/"/g, '\\"')}"`
    ).join(",") + "}";
}

/**
 * JS arrays bound to array-typed parameters are sent as array literals written here. postgres.js
 * serialises them itself only once the connection has loaded its array types; a query that reaches a
 * fresh connection first (seen under load) sends `[1]` as "1" and fails with "malformed array literal".
 */
function bindArrays(text: string, params: unknown[]): unknown[] {
  const idx = arrayParams(text);
  if (idx.size === 0) return params;
  return params.map((p, i) => (idx.has(i) && Array.isArray(p) ? pgArrayLiteral(p) : p));
}

function wrap(sql: Sql): Queryable {
  return {
    async query<T>(text: string, params: unknown[] = []) {
      // Prepared statements: the daemon runs a small set of statements very often (heartbeats).
      const rows = await sql.unsafe(text, bindArrays(text, params) as postgres.ParameterOrJSON<never>[], {
        prepare: true,
      });
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
