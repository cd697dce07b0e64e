/** The embedded default: PostgreSQL compiled to WASM, persisted in a folder, one connection. */
import { PGlite } from "@electric-sql/pglite";
import type { Db, Queryable } from "./types.ts";
import { ensurePrivateDir, tightenTree } from "../private_files.ts";
import { pgliteStartParams } from "./pglite_settings.ts";
import { pgliteInitArgv } from "../self.ts";

const INT8_OID = 20;

type Tx = { query: PGlite["query"]; exec: PGlite["exec"] };

function wrap(q: Tx): Queryable {
  return {
    async query<T>(sql: string, params: unknown[] = []) {
      const r = await q.query<T>(sql, params);
      return r.rows;
    },
    async exec(script: string) {
      await q.exec(script);
    },
  };
}

/** True when the folder holds no database yet (PGlite would run initdb). */
async function isEmpty(dataDir: string): Promise<boolean> {
  try {
    await Deno.stat(`${dataDir}/PG_VERSION`);
    return false;
  } catch {
    return true;
  }
}

/**
 * initdb in a process of its own (lib/db/pglite_init.ts): its memory goes back to the system when it ends.
 * False when that process could not be started or failed: initdb then runs here, as before.
 */
async function initInProcess(dataDir: string): Promise<boolean> {
  const [exe, ...args] = pgliteInitArgv(dataDir);
  try {
    const out = await new Deno.Command(exe, { args, stdin: "null", stdout: "null", stderr: "piped" })
      .output();
    return out.success && !(await isEmpty(dataDir));
  } catch {
    return false;
  }
}

export async function openPglite(dataDir: string): Promise<Db> {
  await ensurePrivateDir(dataDir);
  if (await isEmpty(dataDir)) await initInProcess(dataDir);
  // bigint (int8) always becomes a number, as the PostgreSQL driver does (lib/db/postgres.ts): PGlite's own
  // BigInt for values past 2^53 could not be serialised to JSON, and every listing then answered 500.
  const pg = await PGlite.create(dataDir, {
    parsers: { [INT8_OID]: (x: string) => Number(x) },
    startParams: pgliteStartParams(),
  });
  // PGlite writes its files 0666 whatever the umask (lib/private_files.ts): unreachable behind the 0700
  // folders, and tightened here and at close so that a copy or backup of the folder keeps them private.
  await tightenTree(dataDir);
  const base = wrap(pg);
  return {
    kind: "embedded",
    location: dataDir,
    query: base.query,
    exec: base.exec,
    // PGlite has one connection and serialises transactions with other queries, so a transaction
    // here is also a mutual-exclusion section: advisory locks are granted at once and cost nothing.
    transaction: (fn) => pg.transaction((tx) => fn(wrap(tx))),
    async listen(channel, onMessage, onListen) {
      const unsub = await pg.listen(channel, onMessage);
      onListen?.();
      return async () => {
        await unsub();
      };
    },
    async close() {
      await pg.close();
      await tightenTree(dataDir);
    },
  };
}
