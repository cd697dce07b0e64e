/**
 * The heartbeat's fast path (daemon/routes/heartbeat.ts) answers in front of hono; its hand-written body
 * check (isPlainHeartbeat) must accept nothing the schema refuses, and every answer must be the one hono's
 * route gives. A query string sends the same request through hono (the fast path takes only the bare path).
 */
import { assert, assertEquals } from "../helpers/assert.ts";
import { eachDaemon } from "../helpers/daemon.ts";
import { heartbeatRequest, isPlainHeartbeat } from "../../lib/schemas/runner.ts";
import { sign, SIGNATURE_HEADER, signingKey } from "../../lib/signature.ts";

const tokens = { input: 1, output: 2, cacheCreation: 3, cacheRead: 4 };
const accepted: unknown[] = [
  {},
  { cpuPercent: 1.5, rssBytes: 50_000_000, tokens },
  { pid: 1, cpuPercent: null, rssBytes: null, sessionId: "a", tokens },
  { pid: 2_147_483_647, cpuPercent: 100_000, rssBytes: 2 ** 50, sessionId: "s".repeat(200) },
  { cpuPercent: 0, rssBytes: 0, tokens: { input: 0, output: 0, cacheCreation: 0, cacheRead: 1e12 } },
  { sessionId: "é-😀" },
];
const refused: unknown[] = [
  null,
  [],
  "x",
  1,
  { pid: 0 },
  { pid: -1 },
  { pid: 1.5 },
  { pid: 2_147_483_648 },
  { pid: null },
  { pid: "1" },
  { cpuPercent: -1 },
  { cpuPercent: 100_001 },
  { cpuPercent: "1" },
  { rssBytes: 1.5 },
  { rssBytes: -1 },
  { rssBytes: 2 ** 50 + 1 },
  { rssBytes: 2 ** 53 },
  { sessionId: "" },
  { sessionId: "s".repeat(201) },
  { sessionId: "a\0b" },
  { sessionId: "\ud800" },
  { sessionId: null },
  { sessionId: 1 },
  { tokens: null },
  { tokens: [] },
  { tokens: { input: 1, output: 2, cacheCreation: 3 } },
  { tokens: { ...tokens, extra: 1 } },
  { tokens: { input: 1, output: 2, cacheCreation: 3, cacheReed: 4 } },
  { tokens: { ...tokens, input: -1 } },
  { tokens: { ...tokens, output: 1.5 } },
  { tokens: { ...tokens, cacheRead: 1e12 + 1 } },
  { tokens: { ...tokens, cacheCreation: "3" } },
  { unknown: 1 },
  JSON.parse('{"__proto__": {"pid": 1}}'),
  JSON.parse('{"tokens": {"input": 1, "output": 2, "cacheCreation": 3, "__proto__": {"cacheRead": 4}}}'),
];

Deno.test("heartbeat body: the hand check accepts exactly the plain bodies the schema accepts unchanged", () => {
  for (const v of accepted) {
    assert(isPlainHeartbeat(v), `hand check refused ${JSON.stringify(v)}`);
    const r = heartbeatRequest.safeParse(v);
    assert(r.success, `schema refused ${JSON.stringify(v)}`);
    assertEquals(r.data, v);
  }
  for (const v of refused) {
    assert(!isPlainHeartbeat(v), `hand check accepted ${JSON.stringify(v)}`);
  }
  // Bodies with usage or reported totals are valid but left to the schema.
  const usage = { usage: [] };
  assert(heartbeatRequest.safeParse(usage).success);
  assert(!isPlainHeartbeat(usage));
});

eachDaemon(
  "heartbeat fast path: every answer is the one hono's route gives",
  async (t) => {
    await t.client.createProject({ name: "p", path: "/tmp" });
    const { runner, token } = await t.client.launch({ project: "p" });
    // The started report caches the token: from here heartbeats without a query take the fast path.
    await t.client.withToken(token).started(runner.id, { pid: 1234, host: "h" });
    const key = signingKey(token);
    let now = Date.now();
    const signed = (body: string) => sign(key, ++now, body);
    const send = async (
      viaHono: boolean,
      body: string,
      opts: { header?: string | null; type?: string } = {},
    ) => {
      const headers: Record<string, string> = {
        authorization: `Bearer ${token}`,
        "content-type": opts.type ?? "application/json",
      };
      const header = opts.header === undefined ? signed(body) : opts.header;
      if (header !== null) headers[SIGNATURE_HEADER] = header;
      const res = await fetch(
        `${t.daemon.url}/api/v1/runners/${runner.id}/heartbeat${viaHono ? "?via=hono" : ""}`,
        { method: "POST", headers, body },
      );
      return { status: res.status, type: res.headers.get("content-type"), body: await res.json() };
    };
    const both = async (body: string, opts: { header?: string | null; type?: string } = {}) => {
      const fast = await send(false, body, opts);
      const hono = await send(true, body, opts);
      assertEquals(fast, hono, `answers differ for ${body}`);
      return fast;
    };

    const ok = await both(JSON.stringify({ cpuPercent: 1.5, rssBytes: 5e7, tokens }));
    assertEquals(ok.status, 200);
    assertEquals(ok.body.state, "running");
    assertEquals((await both('{"cpuPercent":-1}')).body.error.code, "invalid_body");
    assertEquals((await both('{"unknown":1}')).body.error.code, "invalid_body");
    assertEquals((await both('{"sessionId":"\\ud800"}')).body.error.code, "invalid_body");
    assertEquals((await both("")).body.error.code, "invalid_body");
    assertEquals((await both("{nope")).body.error.code, "invalid_json");
    assertEquals((await both("{}", { type: "text/plain" })).status, 415);
    assertEquals((await both("{}", { header: null })).body.error.details, { signature: "missing" });
    assertEquals((await both("{}", { header: "t=1" })).body.error.details, { signature: "malformed" });
    assertEquals(
      (await both("{}", { header: sign(key, Date.now() + 1, "{ }") })).body.error.details,
      { signature: "bad" },
    );
    // A usage report is valid but not plain: the fast path leaves it to the schema and books it.
    const usage = JSON.stringify({
      usage: [{ sessionId: "s1", model: "m", input: 1, output: 1, cacheCreation: 0, cacheRead: 0 }],
    });
    assertEquals((await both(usage)).status, 200);

    // A replay is refused whichever way it comes (the last signature time is shared).
    for (const first of [false, true]) {
      const header = signed("{}");
      assertEquals((await send(first, "{}", { header })).status, 200);
      const again = await send(!first, "{}", { header });
      assertEquals([again.status, again.body.error.details], [401, { signature: "replayed" }]);
    }
    assertEquals((await t.client.getRunner(runner.id)).heartbeatCount, 6);
  },
  { inProcess: true, only: "pglite" },
);
