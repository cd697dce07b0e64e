/**
 * The one database interface the daemon uses. Both backends take the same SQL with `$1` parameters:
 * objects and arrays bound to `$n::jsonb` are sent as JSON, int8 comes back as a number.
 */

export type Row = Record<string, unknown>;

export interface Queryable {
  /** One statement with `$n` parameters; returns its rows. */
  query<T = Row>(sql: string, params?: unknown[]): Promise<T[]>;
  /** A script of several statements without parameters (migrations). */
  exec(script: string): Promise<void>;
}

export type DbKind = "embedded" | "postgres";

export interface Db extends Queryable {
  readonly kind: DbKind;
  /** Where the data lives: a folder for PGlite, the server URL (password masked) for PostgreSQL. */
  readonly location: string;
  /** Runs fn in one transaction: committed when it resolves, rolled back when it throws. */
  transaction<T>(fn: (tx: Queryable) => Promise<T>): Promise<T>;
  /**
   * Subscribes to NOTIFY on a channel; resolves to an unsubscribe function. onListen runs each time the
   * subscription is (re)established, so a caller can catch up on what it missed while disconnected.
   */
  listen(
    channel: string,
    onMessage: (payload: string) => void,
    onListen?: () => void,
  ): Promise<() => Promise<void>>;
  close(): Promise<void>;
}

/** The SQLSTATE of a database error from either backend, if it has one. */
export function sqlState(e: unknown): string | undefined {
  const code = (e as { code?: unknown })?.code;
  return typeof code === "string" && /^[0-9A-Z]{5}$/.test(code) ? code : undefined;
}

export const UNIQUE_VIOLATION = "23505";
export const FOREIGN_KEY_VIOLATION = "23503";

export const DEADLOCK = "40P01";
export const SERIALIZATION_FAILURE = "40001";

/** Runs a transaction again (up to `attempts` times) when PostgreSQL aborted it for a deadlock. */
export async function retryOnDeadlock<T>(fn: () => Promise<T>, attempts = 3): Promise<T> {
  for (let i = 1;; i++) {
    try {
      return await fn();
    } catch (e) {
      const state = sqlState(e);
      if (i >= attempts || (state !== DEADLOCK && state !== SERIALIZATION_FAILURE)) throw e;
      await new Promise((r) => setTimeout(r, 10 * i + Math.random() * 20));
    }
  }
}
