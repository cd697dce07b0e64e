/**
 * SQL lives in daemon/store/ (and daemon/outbox/ for the queue), not in route files: a route reads its input,
 * calls the store and shapes the answer. The list of route files still holding SQL is empty and stays so: a
 * route file with SQL fails here.
 */
import { assert, assertEquals } from "../helpers/assert.ts";
import { REPO } from "../helpers/env.ts";

Deno.test("routes: no SQL in route files (it lives in daemon/store/)", async () => {
  const sql = /\b(SELECT|INSERT INTO|DELETE FROM)\b|\bUPDATE [a-z_]+ SET\b/;
  const withSql: string[] = [];
  let routeFiles = 0;
  for await (const path of tsFiles(`${REPO}/daemon`)) {
    const text = await Deno.readTextFile(path);
    // A route file: daemon/routes/, or any file that declares routes (metrics, notify).
    if (!path.includes("/daemon/routes/") && !text.includes("new Routes(")) continue;
    routeFiles++;
    if (sql.test(text)) withSql.push(path.slice(REPO.length + 1));
  }
  assert(routeFiles >= 18, `only ${routeFiles} route files found`);
  assertEquals(withSql.sort(), [], "move the SQL of these route files to daemon/store/");
});

async function* tsFiles(dir: string): AsyncGenerator<string> {
  for await (const e of Deno.readDir(dir)) {
    if (e.isDirectory) yield* tsFiles(`${dir}/${e.name}`);
    else if (e.isFile && e.name.endsWith(".ts")) yield `${dir}/${e.name}`;
  }
}
