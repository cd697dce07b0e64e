/**
 * SQL lives in daemon/store/ (and daemon/outbox/ for the queue), not in route files: a route reads its input,
 * calls the store and shapes the answer. The route files that still hold SQL are listed here; the list only
 * shrinks (a file leaves it when its SQL moves, and a new route file with SQL fails).
 */
import { assertEquals } from "../helpers/assert.ts";
import { REPO } from "../helpers/env.ts";

const STILL_WITH_SQL = [
  "agent.ts",
  "claude_hooks.ts",
  "health.ts",
  "limits.ts",
  "otlp.ts",
  "pty.ts",
  "sessions.ts",
  "usage.ts",
  "worktrees.ts",
];

Deno.test("routes: SQL only in the route files still listed to move it to store/", async () => {
  const sql = /\b(SELECT|INSERT INTO|DELETE FROM)\b|\bUPDATE [a-z_]+ SET\b/;
  const withSql: string[] = [];
  for await (const e of Deno.readDir(`${REPO}/daemon/routes`)) {
    if (!e.isFile || !e.name.endsWith(".ts")) continue;
    if (sql.test(await Deno.readTextFile(`${REPO}/daemon/routes/${e.name}`))) withSql.push(e.name);
  }
  assertEquals(
    withSql.sort(),
    STILL_WITH_SQL,
    "move new SQL to daemon/store/; drop moved files from the list",
  );
});
