/**
 * docs/api.md's endpoint table against a live daemon: every endpoint it documents is served (answered by its
 * route, whatever the status), none is the daemon's "no such endpoint". A route renamed or dropped without
 * its documentation fails here.
 */
import { assert, assertEquals } from "../helpers/assert.ts";
import { eachDaemon } from "../helpers/daemon.ts";
import { REPO } from "../helpers/env.ts";

/** `METHOD /path` of each row of the table, with :params filled in and optional parts dropped. */
async function documented(): Promise<{ method: string; path: string; row: string }[]> {
  const text = await Deno.readTextFile(`${REPO}/docs/api.md`);
  const out = [];
  for (const m of text.matchAll(/^\| *`(GET|POST|PUT|PATCH|DELETE) (\/[^`\s]*)`/gm)) {
    const path = m[2]
      .replace(/\[[^\]]*\]/g, "")
      .replace(/\?.*$/, "")
      .replace(/:id\b/g, "999999")
      .replace(/:[a-z]+/g, "docs-check");
    out.push({ method: m[1], path, row: `${m[1]} ${m[2]}` });
  }
  return out;
}

eachDaemon("api docs: every endpoint in docs/api.md's table is served", async ({ daemon }) => {
  const rows = await documented();
  assert(rows.length >= 30, `only ${rows.length} rows read from the table`);
  const missing: string[] = [];
  for (const { method, path, row } of rows) {
    const abort = new AbortController();
    const timer = setTimeout(() => abort.abort(), 10_000);
    try {
      const res = await fetch(`${daemon.url}${path}`, {
        method,
        headers: { authorization: `Bearer ${daemon.token}`, "content-type": "application/json" },
        body: method === "GET" || method === "DELETE" ? undefined : "{}",
        signal: abort.signal,
      });
      // Headers are enough: a stream (events, logs) never ends by itself.
      const text = res.status === 404 ? await res.text() : (await res.body?.cancel(), "");
      if (res.status === 404 && /no such endpoint/.test(text)) missing.push(row);
    } finally {
      clearTimeout(timer);
    }
  }
  assertEquals(missing, [], "documented but not served");
  // The check can fail: an endpoint that does not exist is reported.
  const res = await fetch(`${daemon.url}/api/v1/no-such-thing`, {
    headers: { authorization: `Bearer ${daemon.token}` },
  });
  assertEquals(res.status, 404);
  assert(/no such endpoint/.test(await res.text()));
}, { only: "pglite" });
