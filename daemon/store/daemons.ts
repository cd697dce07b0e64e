/** The daemons sharing the database, and whether the database answers. */
import type { Queryable } from "../../lib/db/types.ts";

/** Throws when the database does not answer (readiness). */
export async function ping(q: Queryable): Promise<void> {
  await q.query("SELECT 1");
}

/** The daemon that holds a runner (launched it), if it is registered. */
export async function holdingDaemon(
  q: Queryable,
  id: number,
): Promise<{ id: string; url: string } | undefined> {
  const [owner] = await q.query<{ id: string; url: string }>(
    `SELECT d.id, d.url FROM runners r JOIN daemons d ON d.id = r.daemon_id WHERE r.id = $1`,
    [id],
  );
  return owner;
}

/** The database's installation id (migrations/011_installation.sql): made by the first daemon to ask. */
export async function installationOf(q: Queryable): Promise<string> {
  await q.query("INSERT INTO installation (id) VALUES ($1) ON CONFLICT DO NOTHING", [crypto.randomUUID()]);
  const [row] = await q.query<{ id: string }>("SELECT id FROM installation");
  return row.id;
}
