/**
 * Signing in to the web dashboard in headless Chromium against a real daemon: the pasted admin token
 * (a wrong one refused), the one-time link from `POST /api/v1/ui/links` (works once, then says it is
 * spent), signing out, and no request to any other origin.
 */
import { assert, assertEquals, assertMatch, assertStringIncludes } from "../helpers/assert.ts";
import { eachDaemon } from "../helpers/daemon.ts";
import { CI } from "../helpers/env.ts";
import { chromiumAvailable, withBrowser } from "./browser.ts";

const ignore = !chromiumAvailable() && !CI;

eachDaemon("web: sign in with the pasted admin token; a wrong token is refused", async ({ daemon }) => {
  await withBrowser(async (b) => {
    const page = await b.newPage();
    await page.goto(`${daemon.url}/`);
    await page.getByLabel("Admin token").fill("sv_not-the-token");
    await page.getByRole("button", { name: "Sign in" }).click();
    await page.getByRole("alert").getByText("did not accept this token").waitFor();
    assertEquals(await page.evaluate(() => sessionStorage.length), 0, "nothing stored for a wrong token");

    await page.getByLabel("Admin token").fill(daemon.token);
    await page.getByRole("button", { name: "Sign in" }).click();
    await page.getByRole("heading", { name: "Fleet" }).waitFor();
    await page.locator('[data-stream="live"]').waitFor();
    // Traded for a dashboard session: the tab never keeps the admin token.
    assertMatch(await page.evaluate(() => sessionStorage.getItem("stratavore.token")) ?? "", /^svd_/);
    assert(!page.url().includes(daemon.token), "the token is not in the address");

    // A reload keeps the tab signed in (sessionStorage), a new tab does not.
    await page.reload();
    await page.getByRole("heading", { name: "Fleet" }).waitFor();
    const other = await b.newPage();
    await other.goto(`${daemon.url}/`);
    await other.getByLabel("Admin token").waitFor();

    await page.getByRole("button", { name: "Sign out" }).click();
    await page.getByLabel("Admin token").waitFor();
    assertEquals(await page.evaluate(() => sessionStorage.getItem("stratavore.token")), null);

    assertEquals(b.foreignRequests(new URL(daemon.url).origin), [], "requests to other origins");
    assertEquals(b.problems, []);
    // The admin token never travelled in a URL.
    assert(!b.requests.some((u) => u.includes(daemon.token)), b.requests.join("\n"));
  });
}, { inProcess: true, subprocesses: true, ignore });

eachDaemon("web: a one-time link signs in once and never again", async ({ daemon }) => {
  await withBrowser(async (b) => {
    const res = await fetch(`${daemon.url}/api/v1/ui/links`, {
      method: "POST",
      headers: { authorization: `Bearer ${daemon.token}` },
    });
    assertEquals(res.status, 201);
    const link = await res.json() as { code: string; path: string; expiresAt: string };
    assertEquals(link.path, `/ui/login#code=${link.code}`);
    const ttl = Date.parse(link.expiresAt) - Date.now();
    assert(ttl > 60_000 && ttl <= 5 * 60_000 + 5000, `valid a few minutes, not ${ttl} ms`);

    const page = await b.newPage();
    await page.goto(`${daemon.url}${link.path}`);
    await page.getByRole("heading", { name: "Fleet" }).waitFor();
    await page.locator('[data-stream="live"]').waitFor();
    assert(!page.url().includes(link.code), `the code is gone from the address: ${page.url()}`);
    // The page holds a dashboard session (bound to this browser's cookie), not the admin token.
    assertMatch(await page.evaluate(() => sessionStorage.getItem("stratavore.token")) ?? "", /^svd_/);
    // Back does not lead to the code either: the page replaced that history entry.
    await page.goBack({ waitUntil: "commit" }).catch(() => null);
    assert(!page.url().includes(link.code), `history keeps no code: ${page.url()}`);

    // The same link in another tab: refused, with the reason, and the token form offered.
    const again = await b.newPage();
    await again.goto(`${daemon.url}${link.path}`);
    const notice = await again.getByRole("status").filter({ hasText: "expired or was already used" })
      .textContent();
    assertStringIncludes(notice ?? "", "stratavore ui");
    await again.getByLabel("Admin token").waitFor();
    assertEquals(await again.evaluate(() => sessionStorage.getItem("stratavore.token")), null);

    // The code went to the daemon only in a POST body, never in a URL; the token never in a URL.
    assert(!b.requests.some((u) => u.includes(link.code) && !u.includes("#")), b.requests.join("\n"));
    assert(!b.requests.some((u) => u.includes(daemon.token)), b.requests.join("\n"));
    assertEquals(b.foreignRequests(new URL(daemon.url).origin), []);
    assertEquals(b.problems, []);

    // The daemon's log names the sign-in but holds neither the code nor the token.
    const logs = daemon.logs().join("\n");
    assertStringIncludes(logs, "signed in with a one-time link");
    assert(!logs.includes(link.code), "the code is not logged");
    assert(!logs.includes(daemon.token), "the token is not logged");
  });
}, { inProcess: true, subprocesses: true, ignore });

eachDaemon(
  "web: stratavore ui's private forwarding page signs the browser in (the code never on a command line)",
  async ({ daemon }) => {
    const { writeSignInPage } = await import("../../cli/commands/ui.ts");
    await withBrowser(async (b) => {
      const res = await fetch(`${daemon.url}/api/v1/ui/links`, {
        method: "POST",
        headers: { authorization: `Bearer ${daemon.token}` },
      });
      const link = await res.json() as { code: string; path: string };
      const fileUrl = await writeSignInPage(daemon.home, `${daemon.url}${link.path}`);
      assert(!fileUrl.includes(link.code), "what the opener gets holds no code");
      const page = await b.newPage();
      await page.goto(fileUrl);
      await page.getByRole("heading", { name: "Fleet" }).waitFor();
      await page.locator('[data-stream="live"]').waitFor();
      assert(page.url().startsWith(daemon.url), page.url());
    });
  },
  { inProcess: true, subprocesses: true, only: "pglite", ignore: !chromiumAvailable() },
);
