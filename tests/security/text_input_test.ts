/**
 * NUL bytes, lone surrogates and impossible dates used to reach PostgreSQL and come back as 500s. They are
 * 400s with a JSON error, and the database is never asked.
 */
import { assert, assertEquals } from "../helpers/assert.ts";
import { eachDaemon } from "../helpers/daemon.ts";

eachDaemon("input: NUL, lone surrogates and impossible dates are 400s", async ({ daemon, client }) => {
  await client.createProject({ name: "p", path: "/tmp" });
  const headers = { authorization: `Bearer ${daemon.token}`, "content-type": "application/json" };
  const cases: [string, string, string | undefined][] = [
    ["POST", "/api/v1/projects", '{"name":"q","path":"/tmp/a\\u0000b"}'],
    ["POST", "/api/v1/projects", '{"name":"q","path":"/tmp/\\ud800"}'],
    ["POST", "/api/v1/runners", '{"project":"p","labels":{"k":"\\udfff"}}'],
    ["POST", "/api/v1/runners", '{"project":"p","prompt":"a\\u0000"}'],
    ["PATCH", "/api/v1/projects/p", '{"command":"claude\\u0000"}'],
    ["GET", "/api/v1/usage?since=2026-02-31", undefined],
    ["GET", "/api/v1/usage?until=2025-13-01", undefined],
    ["GET", "/api/v1/sessions?project=%00", undefined],
    ["GET", "/api/v1/runners?label=%00", undefined],
    ["GET", "/api/v1/projects/p%00", undefined],
  ];
  for (const [method, path, body] of cases) {
    const res = await fetch(daemon.url + path, { method, headers, body });
    const text = await res.text();
    assertEquals(res.status, 400, `${method} ${path} ${body}: ${text}`);
    assert(JSON.parse(text).error.code, text);
  }
  assertEquals((await client.listProjects()).length, 1);
  assertEquals((await client.listRunners({ all: true })).length, 0);
  assert(!daemon.logs().some((l) => /"level":"error"/.test(l)), "no errors logged");
}, { inProcess: true });
