/**
 * Observed sessions: Claude sessions Stratavore did not launch, seen through the machine-wide hooks that
 * `stratavore hooks install` adds. Each session becomes an observed runner (found by its session id) in the
 * project whose folder holds its cwd, or in "unassigned". They report no heartbeats: one ends with its
 * SessionEnd hook, or when nothing was heard from it for a long time.
 */
import type { Queryable } from "../../lib/db/types.ts";
import type { HookInput } from "../../lib/schemas/hook_input.ts";
import { sha256Hex } from "./tokens.ts";
import { base64url } from "../../lib/home.ts";
import { emit } from "./outbox.ts";
import { ACTIVE_SQL, getRunner, transition } from "./runners.ts";
import type { Runner } from "../../lib/schemas/runner.ts";

/** Where observed sessions outside every project's folder go. */
export const UNASSIGNED_PROJECT = "unassigned";

/** An observer token (only its hash is kept), for `hooks install`. */
export async function createObserverToken(tx: Queryable, host: string): Promise<string> {
  const token = "svo_" + base64url(crypto.getRandomValues(new Uint8Array(32)));
  await tx.query("INSERT INTO observer_tokens (token_sha256, host) VALUES ($1, $2)", [
    sha256Hex(token),
    host,
  ]);
  return token;
}

/** The id of a valid observer token, or undefined. */
export async function observerTokenId(q: Queryable, token: string): Promise<number | undefined> {
  const [row] = await q.query<{ id: number }>(
    "SELECT id FROM observer_tokens WHERE token_sha256 = $1 AND revoked_at IS NULL",
    [sha256Hex(token)],
  );
  return row?.id;
}

export async function revokeObserverToken(q: Queryable, token: string): Promise<boolean> {
  const rows = await q.query(
    "UPDATE observer_tokens SET revoked_at = now() WHERE token_sha256 = $1 AND revoked_at IS NULL RETURNING id",
    [sha256Hex(token)],
  );
  return rows.length > 0;
}

const norm = (p: string) => p.replace(/\\/g, "/").replace(/\/+$/, "");

/** The project whose folder holds `cwd` (the deepest one), else "unassigned" (made on first use). */
async function projectFor(tx: Queryable, cwd: string): Promise<{ id: number; name: string }> {
  const projects = await tx.query<{ id: number; name: string; path: string }>(
    "SELECT id, name, path FROM projects WHERE name <> $1",
    [UNASSIGNED_PROJECT],
  );
  const here = norm(cwd);
  const hit = projects.sort((a, b) => b.path.length - a.path.length)
    .find((p) => here === norm(p.path) || here.startsWith(norm(p.path) + "/"));
  if (hit) return hit;
  await tx.query(
    `INSERT INTO projects (name, path, description, max_runners) VALUES ($1, '/', $2, 1000000)
     ON CONFLICT (name) DO NOTHING`,
    [UNASSIGNED_PROJECT, "Claude sessions outside every project's folder (observed through hooks install)"],
  );
  const [p] = await tx.query<{ id: number; name: string }>("SELECT id, name FROM projects WHERE name = $1", [
    UNASSIGNED_PROJECT,
  ]);
  return p;
}

/** The observed runner of this session: found, or created running. */
export async function observedRunner(
  tx: Queryable,
  input: HookInput,
  ctx: { host: string; daemonId: string },
): Promise<Runner> {
  const [found] = await tx.query<{ id: number }>(
    `SELECT id FROM runners WHERE mode = 'observed' AND session_id = $1 AND state IN ${ACTIVE_SQL}
     ORDER BY id DESC LIMIT 1`,
    [input.session_id],
  );
  if (found) {
    await tx.query("UPDATE runners SET last_heartbeat_at = now() WHERE id = $1", [found.id]);
    return await getRunner(tx, found.id);
  }
  // Serialised per session: two hooks of a new session arriving at once make one runner.
  await tx.query("SELECT pg_advisory_xact_lock(hashtext($1)::bigint)", [
    `stratavore:observed:${input.session_id}`,
  ]);
  const [again] = await tx.query<{ id: number }>(
    `SELECT id FROM runners WHERE mode = 'observed' AND session_id = $1 AND state IN ${ACTIVE_SQL} LIMIT 1`,
    [input.session_id],
  );
  if (again) return await getRunner(tx, again.id);
  const cwd = input.cwd || "/";
  const project = await projectFor(tx, cwd);
  const [{ id }] = await tx.query<{ id: number }>(
    `INSERT INTO runners (project_id, mode, command, args, cwd, host, daemon_id, session_id, state, started_at,
       last_heartbeat_at)
     VALUES ($1, 'observed', 'claude', '[]'::jsonb, $2, $3, $4, $5, 'running', now(), now()) RETURNING id`,
    [project.id, cwd, ctx.host, ctx.daemonId, input.session_id],
  );
  const runner = await getRunner(tx, id);
  await emit(tx, {
    type: "runner.started",
    entityId: id,
    project: project.name,
    payload: { runner, observed: true },
  });
  return runner;
}

/** SessionEnd of an observed session: its runner ends with it (a new session gets a runner of its own). */
export async function endObserved(
  tx: Queryable,
  runnerId: number,
  reason: string | undefined,
): Promise<void> {
  await transition(tx, runnerId, "stopped", { reason: `session ended${reason ? ` (${reason})` : ""}` });
}

/** Observed runners not heard from for `idleMs` end as stopped (their session went away unnoticed). */
export async function endSilentObserved(tx: Queryable, idleMs: number): Promise<Runner[]> {
  const rows = await tx.query<{ id: number }>(
    `SELECT id FROM runners WHERE mode = 'observed' AND state IN ${ACTIVE_SQL}
       AND last_heartbeat_at < now() - ($1 * interval '1 millisecond')
     ORDER BY id FOR UPDATE SKIP LOCKED`,
    [idleMs],
  );
  const out: Runner[] = [];
  for (const { id } of rows) {
    out.push(
      await transition(tx, id, "stopped", { reason: "no hook heard from the session for a long time" }),
    );
  }
  return out;
}
