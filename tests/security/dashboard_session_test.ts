/**
 * The sign-in code used to be exchanged for the admin token itself. It is exchanged for a dashboard
 * session: scoped (no projects, budgets, sign-in links or observer tokens), bound to the browser that
 * redeemed it (an HttpOnly cookie), expiring and revocable.
 */
import { assert, assertEquals } from "../helpers/assert.ts";
import { eachDaemon } from "../helpers/daemon.ts";
import { DashboardSessions } from "../../daemon/http/dashboard_sessions.ts";

Deno.test("dashboard sessions: bound, expiring, revocable", () => {
  let now = 0;
  const d = new DashboardSessions(1000, () => now);
  const s = d.create();
  assert(d.check(s.token, s.binding));
  assert(!d.check(s.token, undefined), "the token alone is not enough");
  assert(!d.check(s.token, d.create().binding), "another browser's cookie is not enough");
  now = 1000;
  assert(!d.check(s.token, s.binding), "expired");
  const t = d.create();
  assert(d.revoke(t.token));
  assert(!d.check(t.token, t.binding), "revoked");
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
  { only: "pglite" },
);
