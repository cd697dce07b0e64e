/** Every malformed request gets its 4xx JSON error, never a 5xx, and nothing in the database changes. */
import postgres from "postgres";
import { assert, assertEquals } from "../helpers/assert.ts";
import { eachDaemon } from "../helpers/daemon.ts";

interface Case {
  name: string;
  method: string;
  path: string;
  /** "admin" | "runner" (runner A's token) | "other" (runner B's token) | "none" | a literal token */
  auth: string;
  body?: string | Uint8Array<ArrayBuffer>;
  contentType?: string;
  status: number;
  code: string;
}

const JSON_CT = "application/json";

function cases(a: number, b: number): Case[] {
  const big = new Uint8Array(2 * 1024 * 1024).fill(0x20);
  return [
    {
      name: "bad JSON",
      method: "POST",
      path: "/api/v1/projects",
      auth: "admin",
      body: "{nope",
      status: 400,
      code: "invalid_json",
    },
    {
      name: "JSON array",
      method: "POST",
      path: "/api/v1/projects",
      auth: "admin",
      body: "[]",
      status: 400,
      code: "invalid_body",
    },
    {
      name: "empty body",
      method: "POST",
      path: "/api/v1/projects",
      auth: "admin",
      body: "",
      status: 400,
      code: "invalid_body",
    },
    {
      name: "wrong types",
      method: "POST",
      path: "/api/v1/projects",
      auth: "admin",
      body: '{"name":5,"path":true}',
      status: 400,
      code: "invalid_body",
    },
    {
      name: "unknown field",
      method: "POST",
      path: "/api/v1/projects",
      auth: "admin",
      body: '{"name":"ok","path":"/x","colour":"red"}',
      status: 400,
      code: "invalid_body",
    },
    {
      name: "bad name",
      method: "POST",
      path: "/api/v1/projects",
      auth: "admin",
      body: '{"name":"Bad Name!","path":"/x"}',
      status: 400,
      code: "invalid_body",
    },
    {
      name: "name too long",
      method: "POST",
      path: "/api/v1/projects",
      auth: "admin",
      body: JSON.stringify({ name: "a".repeat(64), path: "/x" }),
      status: 400,
      code: "invalid_body",
    },
    {
      name: "negative quota",
      method: "POST",
      path: "/api/v1/projects",
      auth: "admin",
      body: '{"name":"q","path":"/x","maxRunners":-1}',
      status: 400,
      code: "invalid_body",
    },
    {
      name: "huge body",
      method: "POST",
      path: "/api/v1/projects",
      auth: "admin",
      body: big,
      status: 413,
      code: "payload_too_large",
    },
    {
      name: "not JSON content type",
      method: "POST",
      path: "/api/v1/projects",
      auth: "admin",
      body: '{"name":"x","path":"/x"}',
      contentType: "text/plain",
      status: 415,
      code: "unsupported_media_type",
    },
    {
      name: "missing token",
      method: "POST",
      path: "/api/v1/projects",
      auth: "none",
      body: '{"name":"x","path":"/x"}',
      status: 401,
      code: "unauthorized",
    },
    {
      name: "wrong token",
      method: "GET",
      path: "/api/v1/projects",
      auth: "sv_not_the_token_at_all",
      status: 401,
      code: "unauthorized",
    },
    {
      name: "runner token on admin endpoint",
      method: "POST",
      path: "/api/v1/projects",
      auth: "runner",
      body: '{"name":"x","path":"/x"}',
      status: 403,
      code: "forbidden",
    },
    {
      name: "runner token stopping a runner",
      method: "POST",
      path: `/api/v1/runners/${b}/stop`,
      auth: "runner",
      body: "{}",
      status: 403,
      code: "forbidden",
    },
    {
      name: "another runner's token",
      method: "POST",
      path: `/api/v1/runners/${a}/heartbeat`,
      auth: "other",
      body: "{}",
      status: 403,
      code: "forbidden",
    },
    {
      name: "admin token on agent endpoint",
      method: "POST",
      path: `/api/v1/runners/${a}/heartbeat`,
      auth: "admin",
      body: "{}",
      status: 403,
      code: "forbidden",
    },
    {
      name: "unknown token on agent endpoint",
      method: "POST",
      path: `/api/v1/runners/${a}/heartbeat`,
      auth: "svr_forged",
      body: "{}",
      status: 401,
      code: "unauthorized",
    },
    {
      name: "unsigned heartbeat",
      method: "POST",
      path: `/api/v1/runners/${a}/heartbeat`,
      auth: "runner",
      body: "{}",
      status: 401,
      code: "unauthorized",
    },
    {
      name: "heartbeat with wrong types",
      method: "POST",
      path: `/api/v1/runners/${a}/heartbeat`,
      auth: "runner",
      body: '{"cpuPercent":"high"}',
      status: 400,
      code: "invalid_body",
    },
    {
      name: "heartbeat with unknown field",
      method: "POST",
      path: `/api/v1/runners/${a}/heartbeat`,
      auth: "runner",
      body: '{"mood":"happy"}',
      status: 400,
      code: "invalid_body",
    },
    {
      name: "exited with a text code",
      method: "POST",
      path: `/api/v1/runners/${a}/exited`,
      auth: "runner",
      body: '{"exitCode":"zero"}',
      status: 400,
      code: "invalid_body",
    },
    {
      name: "started without pid",
      method: "POST",
      path: `/api/v1/runners/${a}/started`,
      auth: "runner",
      body: '{"host":"h"}',
      status: 400,
      code: "invalid_body",
    },
    {
      name: "non-numeric runner id",
      method: "GET",
      path: "/api/v1/runners/abc",
      auth: "admin",
      status: 400,
      code: "bad_request",
    },
    {
      name: "unknown runner",
      method: "GET",
      path: "/api/v1/runners/999999",
      auth: "admin",
      status: 404,
      code: "not_found",
    },
    {
      name: "unknown state filter",
      method: "GET",
      path: "/api/v1/runners?state=dancing",
      auth: "admin",
      status: 400,
      code: "bad_request",
    },
    {
      name: "bad project name in path",
      method: "GET",
      path: "/api/v1/projects/NOPE!",
      auth: "admin",
      status: 400,
      code: "bad_request",
    },
    {
      name: "unknown project",
      method: "PATCH",
      path: "/api/v1/projects/ghost",
      auth: "admin",
      body: '{"maxRunners":1}',
      status: 404,
      code: "not_found",
    },
    {
      name: "launch in unknown project",
      method: "POST",
      path: "/api/v1/runners",
      auth: "admin",
      body: '{"project":"ghost"}',
      status: 404,
      code: "not_found",
    },
    {
      name: "launch with 300 args",
      method: "POST",
      path: "/api/v1/runners",
      auth: "admin",
      body: JSON.stringify({ project: "base", args: Array(300).fill("x") }),
      status: 400,
      code: "invalid_body",
    },
    {
      name: "launch with bad labels",
      method: "POST",
      path: "/api/v1/runners",
      auth: "admin",
      body: '{"project":"base","labels":{"bad key":"v"}}',
      status: 400,
      code: "invalid_body",
    },
    {
      name: "duplicate project",
      method: "POST",
      path: "/api/v1/projects",
      auth: "admin",
      body: '{"name":"base","path":"/x"}',
      status: 409,
      code: "conflict",
    },
    {
      name: "busy project delete",
      method: "DELETE",
      path: "/api/v1/projects/base",
      auth: "admin",
      status: 409,
      code: "project_busy",
    },
    {
      name: "bad force flag",
      method: "DELETE",
      path: "/api/v1/projects/base?force=maybe",
      auth: "admin",
      status: 400,
      code: "bad_request",
    },
    {
      name: "stop an ended runner",
      method: "POST",
      path: `/api/v1/runners/${b}/kill`,
      auth: "admin",
      body: "{}",
      status: 409,
      code: "invalid_transition",
    },
    {
      name: "quota",
      method: "POST",
      path: "/api/v1/runners",
      auth: "admin",
      body: '{"project":"full"}',
      status: 409,
      code: "quota_exceeded",
    },
  ];
}

eachDaemon(
  "api: malformed requests get 4xx JSON errors and change nothing",
  async ({ daemon, client, databaseUrl }) => {
    await client.createProject({ name: "base", path: "/tmp", maxRunners: 5 });
    await client.createProject({ name: "full", path: "/tmp", maxRunners: 0 });
    const a = await client.launch({ project: "base" });
    const b = await client.launch({ project: "base" });
    await client.killRunner(b.runner.id);
    const tokens: Record<string, string> = { admin: daemon.token, runner: a.token, other: b.token };

    const snapshot = async () =>
      JSON.stringify({
        projects: (await client.listProjects()).map((p) => ({ ...p })),
        runners: await client.listRunners({ all: true }),
        status: { ...(await client.status()), uptimeSeconds: 0 },
      });
    const dbCounts = async () => {
      if (!databaseUrl) return "";
      const sql = postgres(databaseUrl, { max: 1, onnotice: () => {} });
      try {
        const [r] =
          await sql`SELECT (SELECT count(*) FROM outbox) AS outbox, (SELECT count(*) FROM audit_log) AS audit,
        (SELECT count(*) FROM agent_tokens) AS tokens, (SELECT count(*) FROM heartbeat_stats) AS hb`;
        return JSON.stringify(r);
      } finally {
        await sql.end();
      }
    };
    // A refused launch writes its refusal event; everything else must leave the database as it was.
    const before = await snapshot();
    const countsBefore = await dbCounts();

    for (const c of cases(a.runner.id, b.runner.id)) {
      const headers: Record<string, string> = {};
      if (c.auth !== "none") headers.authorization = `Bearer ${tokens[c.auth] ?? c.auth}`;
      if (c.body !== undefined) headers["content-type"] = c.contentType ?? JSON_CT;
      const res = await fetch(daemon.url + c.path, { method: c.method, headers, body: c.body });
      const text = await res.text();
      assertEquals(res.status, c.status, `${c.name}: status (${text.slice(0, 200)})`);
      assert(res.headers.get("content-type")?.startsWith("application/json"), `${c.name}: JSON content type`);
      const body = JSON.parse(text);
      assertEquals(body.error?.code, c.code, `${c.name}: code`);
      assert(typeof body.error.message === "string" && body.error.message.length > 0, `${c.name}: message`);
      assert(!/\bat \S+:\d+:\d+/.test(text), `${c.name}: no stack trace in ${text}`);
    }

    assertEquals(await snapshot(), before, "API-visible state unchanged");
    if (databaseUrl) {
      const after = JSON.parse(await dbCounts());
      const prior = JSON.parse(countsBefore);
      assertEquals(after.audit, prior.audit, "no audit rows for refused calls");
      assertEquals(after.tokens, prior.tokens);
      assertEquals(after.hb, prior.hb);
      assertEquals(
        Number(after.outbox),
        Number(prior.outbox) + 1,
        "only the quota refusal event was written",
      );
    }
    assert(!daemon.logs().some((l) => /"level":"error"/.test(l)), "no errors logged");
  },
  { inProcess: true },
);
