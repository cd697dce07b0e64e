/** The agent-token cache: heartbeats past the TTL answer from the cache and refresh many runners in one query. */
import { assert, assertEquals } from "../helpers/assert.ts";
import type { Queryable } from "../../lib/db/types.ts";
import { AgentTokenCache, sha256Hex, TOKEN_CACHE_TTL_MS } from "../../daemon/store/tokens.ts";

/** A stand-in for the agent_tokens ⋈ runners reads: runner id → token hash and when it stops working. */
function fakeDb(rows: Map<number, { token_sha256: string; revoke_ms: number | null }>) {
  const queries: unknown[][] = [];
  const q: Queryable = {
    query<T>(_sql: string, params: unknown[] = []) {
      queries.push(params);
      const ids = Array.isArray(params[0]) ? params[0] as number[] : [params[0] as number];
      const out = ids.filter((id) => rows.has(id)).map((id) => ({ runner_id: id, ...rows.get(id)! }));
      return Promise.resolve(out as T[]);
    },
    exec: () => Promise.resolve(),
  };
  return { q, queries };
}

const tick = () => new Promise((r) => setTimeout(r, 10));

Deno.test("tokens: past the TTL a heartbeat answers from the cache; the stale rows are read again in one query", async () => {
  let now = 1_000_000;
  const rows = new Map(
    [1, 2, 3].map((id) => [id, { token_sha256: sha256Hex(`tok${id}`), revoke_ms: null as number | null }]),
  );
  const { q, queries } = fakeDb(rows);
  const cache = new AgentTokenCache(60_000, 100, () => now);
  for (const id of [1, 2, 3]) assertEquals(await cache.check(q, id, `tok${id}`), "ok");
  assertEquals(queries.length, 3, "one read per runner at first");

  now += TOKEN_CACHE_TTL_MS + 1;
  rows.set(2, { token_sha256: sha256Hex("tok2"), revoke_ms: now - 1 }); // runner 2 ended on another daemon
  for (const id of [1, 2, 3]) {
    assertEquals(await cache.check(q, id, `tok${id}`, { staleOk: true }), "ok", `runner ${id}, stale`);
  }
  assertEquals(queries.length, 3, "the heartbeats did not wait for a read");
  await tick();
  assertEquals(queries.length, 4, "one read for the three stale rows");
  assertEquals(queries[3][0], [1, 2, 3]);
  assertEquals(
    await cache.check(q, 2, "tok2", { staleOk: true }),
    "ended",
    "the refreshed row says it ended",
  );
  assertEquals(await cache.check(q, 1, "tok1", { staleOk: true }), "ok");
  assertEquals(queries.length, 4, "fresh again: no read");
});

Deno.test("tokens: a wrong token, an ended runner or another route still read the row past the TTL", async () => {
  let now = 1_000_000;
  const rows = new Map([[7, { token_sha256: sha256Hex("tok7"), revoke_ms: null as number | null }]]);
  const { q, queries } = fakeDb(rows);
  const cache = new AgentTokenCache(60_000, 100, () => now);
  assertEquals(await cache.check(q, 7, "tok7"), "ok");
  now += TOKEN_CACHE_TTL_MS + 1;
  assertEquals(await cache.check(q, 7, "tok7"), "ok");
  assertEquals(queries.length, 2, "without staleOk the row is read again");
  now += TOKEN_CACHE_TTL_MS + 1;
  const before = queries.length;
  assertEquals(await cache.check(q, 7, "nope", { staleOk: true }), "unknown");
  assert(queries.length > before, "a token that does not match is never taken from a stale row");
});
