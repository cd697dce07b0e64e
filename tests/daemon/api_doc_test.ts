/**
 * docs/api.md's endpoint table against the route table (daemon/routes/mod.ts), both ways: every route the
 * daemon mounts is documented with the auth it declares, and every documented endpoint is a route. A route
 * added, renamed, dropped or given another auth without its documentation fails here.
 */
import { assert, assertEquals } from "../helpers/assert.ts";
import { REPO } from "../helpers/env.ts";
import { routeTable } from "../../daemon/routes/mod.ts";
import { AUTHS, METHODS, type Route } from "../../daemon/http/route.ts";

/**
 * Building the table only creates the handlers (none runs here): a stand-in for every dependency, which
 * answers any property or call with itself.
 */
const unused: unknown = new Proxy(function () {}, {
  get: (_t, key) => (key === "then" ? undefined : unused),
  apply: () => unused,
});

function declared(): Route[] {
  return routeTable(unused as never);
}

/**
 * `METHOD /path auth` of each row of the table. A row may list several paths (`GET /a`, `/b`): a path without
 * a method takes the one before it. Optional parts (`[?force=true]`) and queries (`?stat=`) are dropped.
 */
async function documented(): Promise<string[]> {
  const text = await Deno.readTextFile(`${REPO}/docs/api.md`);
  const table = text.slice(text.indexOf("## Endpoints"));
  const out: string[] = [];
  for (const row of table.matchAll(/^\| *(`[^|]*`) *\| *([a-z-]+) *\|/gm)) {
    let method = "";
    for (const [, item] of row[1].matchAll(/`([^`]+)`/g)) {
      const m = /^(?:([A-Z]+) )?(\/\S*)$/.exec(item);
      assert(m, `not "METHOD /path" or "/path": ${item}`);
      method = m[1] ?? method;
      assert(method, `a path without a method: ${item}`);
      out.push(`${method} ${m[2].replace(/\[[^\]]*\]/g, "").replace(/\?.*$/, "")} ${row[2]}`);
    }
  }
  return out;
}

Deno.test("api docs: docs/api.md's endpoint table lists every route with its auth, and nothing else", async () => {
  const routes = declared().map((r) => `${r.method} ${r.path} ${r.auth}`);
  const docs = await documented();
  assert(routes.length >= 60, `only ${routes.length} routes declared`);
  assertEquals(
    docs.filter((d) => !routes.includes(d)),
    [],
    "documented, but no such route (or another auth)",
  );
  assertEquals(
    routes.filter((r) => !docs.includes(r)),
    [],
    "routes missing from docs/api.md (or another auth)",
  );
  assertEquals(docs.length, new Set(docs).size, "documented twice");
});

Deno.test("api docs: the route declarations are consistent", () => {
  const routes = declared();
  const keys = routes.map((r) => `${r.method} ${r.path}`);
  assertEquals(keys.length, new Set(keys).size, "a route declared twice");
  for (const r of routes) {
    const name = `${r.method} ${r.path}`;
    assert(METHODS.includes(r.method) && AUTHS.includes(r.auth), name);
    // The runner's own token: the path names the runner.
    if (r.auth === "runner") assert(r.path.split("/").includes(":id"), `${name}: runner auth without :id`);
    if (r.urlToken) assertEquals(r.method, "GET", `${name}: a token in the URL only for GET`);
    if (r.staleTokenOk) assertEquals(r.auth, "runner", name);
    // Only the health checks and the dashboard's page are outside /api/v1, and they take no token.
    if (!r.path.startsWith("/api/v1/")) assertEquals(r.auth, "none", name);
  }
});
