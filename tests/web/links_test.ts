/**
 * One-time sign-in links: single use, expiry, a cap on outstanding codes (UiLinks), and over HTTP: who may
 * create them, that /ui/exchange refuses other sites and non-JSON bodies, and the page's security headers.
 */
import { UiLinks } from "../../daemon/routes/ui.ts";
import { assert, assertEquals, assertMatch } from "../helpers/assert.ts";
import { eachDaemon } from "../helpers/daemon.ts";

Deno.test("ui links: a code works once, only before it expires, and codes are never stored", async () => {
  let now = 1_000_000;
  const links = new UiLinks(60_000, () => now);
  const a = await links.create();
  assertMatch(a.code, /^[A-Za-z0-9_-]{43}$/);
  assertEquals(a.path, `/ui/login#code=${a.code}`);
  assertEquals(a.expiresAt, new Date(now + 60_000).toISOString());
  assertEquals(await links.redeem(a.code), true);
  assertEquals(await links.redeem(a.code), false, "used twice");
  assertEquals(await links.redeem("x".repeat(43)), false, "unknown");

  const b = await links.create();
  now += 60_000;
  assertEquals(await links.redeem(b.code), false, "expired");
  assertEquals(links.pending, 0);

  // A wrong guess does not spend another code; the map holds hashes, not codes.
  const c = await links.create();
  assertEquals(await links.redeem(c.code.slice(0, -1) + (c.code.endsWith("A") ? "B" : "A")), false);
  assert(!Deno.inspect(links, { depth: 5 }).includes(c.code));
  assertEquals(await links.redeem(c.code), true);
});

Deno.test("ui links: outstanding codes are capped, the oldest forgotten first", async () => {
  const links = new UiLinks();
  const first = await links.create();
  for (let i = 0; i < 40; i++) await links.create();
  assertEquals(links.pending, 32);
  assertEquals(await links.redeem(first.code), false);
});

eachDaemon(
  "ui links over HTTP: admin only, same-origin exchange, JSON only, secure headers",
  async ({ daemon }) => {
    const post = (path: string, init: RequestInit = {}) =>
      fetch(`${daemon.url}${path}`, { method: "POST", ...init });
    const admin = { authorization: `Bearer ${daemon.token}` };

    const anon = await post("/api/v1/ui/links");
    assertEquals(anon.status, 401);
    await anon.body?.cancel();
    const made = await post("/api/v1/ui/links", { headers: admin });
    assertEquals(made.status, 201);
    const { code } = await made.json() as { code: string };

    // Another site's page cannot trade the code (nor read the answer: no CORS headers either).
    const foreign = await post("/ui/exchange", {
      headers: { "content-type": "application/json", origin: "https://evil.example" },
      body: JSON.stringify({ code }),
    });
    assertEquals(foreign.status, 403);
    assertEquals(foreign.headers.get("access-control-allow-origin"), null);
    await foreign.body?.cancel();
    const form = await post("/ui/exchange", {
      headers: { "content-type": "application/x-www-form-urlencoded" },
      body: `code=${code}`,
    });
    assertEquals(form.status, 415);
    await form.body?.cancel();

    // Refused attempts did not spend it; the real exchange does.
    const ok = await post("/ui/exchange", {
      headers: { "content-type": "application/json", origin: new URL(daemon.url).origin },
      body: JSON.stringify({ code }),
    });
    assertEquals(ok.status, 200);
    assertEquals(ok.headers.get("cache-control"), "no-store");
    // A dashboard session bound to the browser by an HttpOnly cookie, never the admin token.
    const session = (await ok.json()).token as string;
    assertMatch(session, /^svd_/);
    assertMatch(
      ok.headers.get("set-cookie") ?? "",
      /^stratavore_binding=[A-Za-z0-9_-]+; HttpOnly; SameSite=Strict/,
    );
    const twice = await post("/ui/exchange", {
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ code }),
    });
    assertEquals(twice.status, 401);
    assertMatch((await twice.json()).error.message, /expired or was already used/);

    // The page: strict CSP, no framing, no referrer; assets revalidate with ETags.
    const page = await fetch(`${daemon.url}/`);
    assertEquals(page.status, 200);
    assertMatch(page.headers.get("content-type") ?? "", /^text\/html/);
    assertMatch(page.headers.get("content-security-policy") ?? "", /default-src 'none'.*connect-src 'self'/);
    assertEquals(page.headers.get("x-frame-options"), "DENY");
    assertEquals(page.headers.get("referrer-policy"), "no-referrer");
    await page.body?.cancel();
    const js = await fetch(`${daemon.url}/ui/app.js`);
    const etag = js.headers.get("etag");
    assert(etag, "an ETag");
    await js.body?.cancel();
    const again = await fetch(`${daemon.url}/ui/app.js`, { headers: { "if-none-match": etag } });
    assertEquals(again.status, 304);
    await again.body?.cancel();
    // The API is not served to the page without the token, and the page needs none.
    const api = await fetch(`${daemon.url}/api/v1/status`);
    assertEquals(api.status, 401);
    await api.body?.cancel();
    assert(!daemon.logs().join("\n").includes(code), "the code is never logged");
  },
  { inProcess: true, only: "pglite" },
);
