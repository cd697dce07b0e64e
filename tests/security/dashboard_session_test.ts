/**
 * The sign-in code used to be exchanged for the admin token itself. It is exchanged for a dashboard
 * session: scoped (no projects, budgets, sign-in links or observer tokens), bound to the browser that
 * redeemed it (an HttpOnly cookie), expiring and revocable.
 */
import { assert, assertEquals } from "../helpers/assert.ts";
import { eachDaemon } from "../helpers/daemon.ts";
import { eachBackend } from "../helpers/db.ts";
import { DashboardSessions } from "../../daemon/http/dashboard_sessions.ts";

eachBackend("dashboard sessions: bound, expiring, revocable, kept in the database", async ({ db }) => {
  let now = Date.parse("2026-12-01T00:00:00Z");
  const d = new DashboardSessions(db, 60_000, () => now);
  const s = await d.create();
  assert(await d.check(s.token, s.binding));
  const stored = await db.query<{ token_hash: string; binding_hash: string }>(
    `SELECT token_hash, binding_hash FROM dashboard_sessions`,
  );
  assertEquals(stored.length, 1);
  assert(stored[0].token_hash !== s.token && stored[0].binding_hash !== s.binding, "only hashes are stored");
  assert(!(await d.check(s.token, undefined)), "the token alone is not enough");
  assert(!(await d.check(s.token, (await d.create()).binding)), "another browser's cookie is not enough");
  // Another daemon on the same database (or this one after a restart) knows the session.
  assert(
    await new DashboardSessions(db, 60_000, () => now).check(s.token, s.binding),
    "shared and persistent",
  );
  // A second sign-in in the same browser keeps its binding: the first tab stays signed in.
  const tab = await d.create(s.binding);
  assertEquals(tab.binding, s.binding);
  assert(await d.check(s.token, s.binding) && await d.check(tab.token, s.binding));
  assertEquals((await d.create("not a binding")).binding.length, 43, "a malformed cookie is not reused");
  now += 60_000;
  assert(!(await d.check(s.token, s.binding)), "expired");
  const t = await d.create();
  assert(await d.revoke(t.token));
  assert(!(await new DashboardSessions(db, 60_000, () => now).check(t.token, t.binding)), "revoked");
  assert(!(await d.check(t.token, t.binding)), "revoked here too");
  const u = await d.create();
  assertEquals(await d.revokeAll(), 1, "the expired ones were swept by the sign-ins, t was revoked");
  assert(!(await d.check(u.token, u.binding)), "signed out by the admin");
  const [{ n }] = await db.query<{ n: number }>(`SELECT count(*)::int AS n FROM dashboard_sessions`);
  assertEquals(n, 0);
});

eachDaemon(
  "dashboard sessions: what a sign-in code buys, and only in the browser that redeemed it",
  async (t) => {
    const { daemon, client } = t;
    await client.createProject({ name: "p", path: "/tmp" });
    const link = await (await fetch(`${daemon.url}/api/v1/ui/links`, {
      method: "POST",
      headers: { authorization: `Bearer ${daemon.token}` },
    })).json();
    const ex = await fetch(`${daemon.url}/ui/exchange`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ code: link.code }),
    });
    const { token } = await ex.json();
    assert(token !== daemon.token && token.startsWith("svd_"));
    const cookie = (ex.headers.get("set-cookie") ?? "").split(";")[0];
    const call = async (method: string, path: string, withCookie = true, body?: unknown) => {
      const res = await fetch(daemon.url + path, {
        method,
        headers: {
          authorization: `Bearer ${token}`,
          ...(withCookie ? { cookie } : {}),
          ...(body === undefined ? {} : { "content-type": "application/json" }),
        },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
      await res.body?.cancel();
      return res.status;
    };
    // What the dashboard does: read, launch, stop.
    assertEquals(await call("GET", "/api/v1/runners"), 200);
    assertEquals(await call("GET", "/api/v1/projects"), 200);
    assertEquals(await call("POST", "/api/v1/runners", true, { project: "p" }), 201);
    // Stolen without the browser's cookie: nothing.
    assertEquals(await call("GET", "/api/v1/runners", false), 401);
    // Out of scope: what decides the commands that run, budgets, new credentials.
    assertEquals(
      await call("POST", "/api/v1/projects", true, { name: "x", path: "/tmp", command: "sh" }),
      403,
    );
    assertEquals(await call("PATCH", "/api/v1/projects/p", true, { command: "sh" }), 403);
    assertEquals(await call("POST", "/api/v1/ui/links"), 403);
    assertEquals(await call("POST", "/api/v1/runners", true, { project: "p", command: "sh" }), 403);
    assertEquals(await call("PUT", "/api/v1/budgets/global", true, { tokens: 1000, period: "day" }), 403);
    assertEquals(await call("POST", "/api/v1/observed/tokens"), 403);
    // Signing out ends it on the daemon.
    assertEquals(await call("DELETE", "/api/v1/ui/session"), 200);
    assertEquals(await call("GET", "/api/v1/runners"), 401);
  },
  { inProcess: true, only: "pglite" },
);
