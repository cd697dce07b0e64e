/**
 * The events page in headless Chromium: the recent events, a type filter, new events added live, and the
 * dead letters with their retry (the PostgreSQL run dead-letters an event by hand; the embedded relay
 * then delivers it).
 */
import postgres from "postgres";
import { assert, assertEquals, eventually } from "../helpers/assert.ts";
import { eachDaemon } from "../helpers/daemon.ts";
import { CI } from "../helpers/env.ts";
import { chromiumAvailable, signIn, withBrowser } from "./browser.ts";
import { SCREENSHOT_BACKEND, seedFleet } from "./scene.ts";

const ignore = !chromiumAvailable() && !CI;

eachDaemon("web: the events page filters, adds events live and retries dead letters", async (t) => {
  const { daemon, client } = t;
  await seedFleet(t, { detached: false });
  let deadId: number | undefined;
  if (t.databaseUrl) {
    const sql = postgres(t.databaseUrl, { max: 1, onnotice: () => {} });
    try {
      const [row] = await sql<{ id: number }[]>`
        INSERT INTO outbox (type, entity_id, project, ordering_key, payload, attempts, dead_at, last_error)
        VALUES ('project.updated', 'api', 'api', 'project:api:dead', ${sql.json({ name: "api" })}, 10, now(),
          'NOT_FOUND - no exchange ''stratavore.events'' in vhost ''/''')
        RETURNING id`;
      deadId = Number(row.id);
    } finally {
      await sql.end();
    }
  }

  await withBrowser(async (b) => {
    const page = await b.newPage();
    await signIn(page, daemon.url, daemon.token);
    await page.goto(`${daemon.url}/#/events`);
    await page.locator("table.events tbody tr").first().waitFor();
    const types = await page.locator("table.events tbody tr").evaluateAll((rows) =>
      rows.map((r) => (r as unknown as { dataset: { type: string } }).dataset.type)
    );
    assert(types.includes("runner.launched") && types.includes("project.created"), types.join(" "));
    if (deadId !== undefined) {
      const row = page.locator(`tr[data-dead="${deadId}"]`);
      await row.getByText("NOT_FOUND").waitFor();
    }
    if (t.backend === SCREENSHOT_BACKEND) await b.screenshot(page, "events", { fullPage: true });

    // Filter to runner events: only those remain; a new one arrives live, at the top.
    await page.getByLabel("Types").fill("runner.*");
    await page.getByRole("button", { name: "Apply" }).click();
    await eventually(async () => {
      const now = await page.locator("table.events tbody tr").evaluateAll((rows) =>
        rows.map((r) => (r as unknown as { dataset: { type: string } }).dataset.type)
      );
      return now.length > 0 && now.every((x) => x.startsWith("runner."));
    });
    const { runner } = await client.launch({ project: "api" });
    await page.locator(`table.events tbody tr:first-child[data-type="runner.launched"]`)
      .filter({ hasText: `runner ${runner.id}` }).waitFor();
    await client.updateProject("api", { description: "changed" });
    await page.waitForTimeout(600);
    assertEquals(await page.locator('table.events tr[data-type="project.updated"]').count(), 0);
    await client.killRunner(runner.id);
    await page.locator('table.events tbody tr:first-child[data-type="runner.killed"]').waitFor();

    if (deadId === undefined) {
      await page.getByText("No dead-lettered events.").waitFor();
    } else {
      const row = page.locator(`tr[data-dead="${deadId}"]`);
      await row.getByRole("button", { name: `Retry event ${deadId}` }).click();
      await page.getByRole("status").filter({ hasText: `Queued again: #${deadId}` }).waitFor();
      await row.waitFor({ state: "detached" });
      assertEquals((await client.deadEvents()).total, 0);
    }

    assertEquals(b.foreignRequests(new URL(daemon.url).origin), []);
    assertEquals(b.problems, []);
  }, { screenshots: t.backend === SCREENSHOT_BACKEND });
}, { inProcess: true, subprocesses: true, ignore });
