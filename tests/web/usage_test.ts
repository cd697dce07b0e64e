/**
 * The usage page in headless Chromium: tokens per day per project as a chart with the budget lines, per
 * model, the cost estimate and a table with the same numbers as the API, a project filter and the CSV
 * export made in the page. The PostgreSQL run also books two weeks of past usage, so the chart has days.
 */
import postgres from "postgres";
import { assert, assertEquals } from "../helpers/assert.ts";
import { eachDaemon } from "../helpers/daemon.ts";
import { CI } from "../helpers/env.ts";
import { chromiumAvailable, signIn, withBrowser } from "./browser.ts";
import { MODEL, SCREENSHOT_BACKEND, seedFleet, SMALL_MODEL } from "./scene.ts";

const ignore = !chromiumAvailable() && !CI;
const DAY = 86_400_000;

/** Past days of usage for the ended runners (only a direct insert can date usage in the past). */
async function bookHistory(databaseUrl: string, runners: { api: number; docs: number }): Promise<void> {
  const sql = postgres(databaseUrl, { max: 1, onnotice: () => {} });
  try {
    for (let d = 1; d <= 13; d++) {
      const day = new Date(Date.now() - d * DAY).toISOString().slice(0, 10);
      const wave = 1 + Math.sin(d / 2) * 0.6;
      const rows: [number, string, string, number][] = [
        [runners.api, "s-api-old", MODEL, Math.round(900_000 * wave)],
        [runners.api, "s-api-old", SMALL_MODEL, Math.round(250_000 * wave)],
        [runners.docs, "s-docs-old", MODEL, Math.round(400_000 * (2 - wave))],
      ];
      for (const [runner, session, model, total] of rows) {
        await sql`
          INSERT INTO token_usage (day, runner_id, session_id, model, project_id, input_tokens, output_tokens,
            cache_creation_tokens, cache_read_tokens, cost_usd)
          SELECT ${day}::date, r.id, ${session}, ${model}, r.project_id, ${Math.round(total * 0.02)},
            ${Math.round(total * 0.06)}, ${Math.round(total * 0.2)}, ${Math.round(total * 0.72)},
            ${(total / 1e6) * (model === MODEL ? 1.9 : 0.5)}
          FROM runners r WHERE r.id = ${runner}`;
      }
    }
  } finally {
    await sql.end();
  }
}

eachDaemon(
  "web: the usage page charts tokens per day with budget lines, per model, and exports CSV",
  async (t) => {
    const { daemon, client } = t;
    const { usageRunners } = await seedFleet(t, { detached: false });
    if (t.databaseUrl) await bookHistory(t.databaseUrl, usageRunners);
    const since = new Date(Date.now() - 29 * DAY).toISOString().slice(0, 10);
    const total = (await client.usage({ by: "project", since })).total;
    const perDay = [
      ...(await client.usage({ by: "day", since, project: "api" })).rows,
      ...(await client.usage({ by: "day", since, project: "docs" })).rows,
    ];
    assert(total.total > 0, "there is usage");

    await withBrowser(async (b) => {
      const page = await b.newPage();
      await signIn(page, daemon.url, daemon.token);
      await page.goto(`${daemon.url}/#/usage`);
      const chart = page.locator("figure#usage-chart");
      await chart.waitFor();
      assertEquals(await chart.getAttribute("data-series"), "2");
      assertEquals(Number(await chart.getAttribute("data-points")), perDay.filter((r) => r.total > 0).length);
      // Per day, the daily budget is drawn (docs: 2M a day); the monthly ones wait for the cumulative view.
      assertEquals(await chart.getAttribute("data-budgets"), "1");
      // The canvas really has pixels drawn on it.
      const drawn = await page.evaluate(() => {
        const c = (globalThis as unknown as {
          document: { querySelector(s: string): { toDataURL(): string; width: number } };
        }).document.querySelector("#usage-chart canvas");
        return { width: c.width, size: c.toDataURL().length };
      });
      assert(drawn.width > 300 && drawn.size > 5000, `the chart is drawn: ${JSON.stringify(drawn)}`);

      // The figures match the API.
      assertEquals(
        Number(await page.locator("[data-total-tokens]").getAttribute("data-total-tokens")),
        total.total,
      );
      assertEquals(
        Number(await page.locator("[data-total-cost]").getAttribute("data-total-cost")),
        total.costUsd,
      );
      assertEquals(await page.locator("table.usage tbody tr").count(), perDay.length);
      const models = (await client.usage({ by: "model", since })).rows;
      assertEquals(models.map((m) => m.key).sort(), [MODEL, SMALL_MODEL].sort());
      assertEquals(await page.locator("figure#model-chart").getAttribute("data-models"), "2");
      for (const m of models) {
        const cell = page.locator(`tr[data-model="${m.key}"] td[data-label="Total"]`);
        assertEquals((await cell.textContent())?.trim(), m.total.toLocaleString("en-US"));
      }
      if (t.backend === SCREENSHOT_BACKEND) await b.screenshot(page, "usage", { fullPage: true });

      // Cumulative: every token budget is drawn (global and api per month, docs per day).
      await page.getByLabel("Cumulative").check();
      await page.locator('figure#usage-chart[data-view="cumulative"]').waitFor();
      assertEquals(await page.locator("figure#usage-chart").getAttribute("data-budgets"), "3");

      // CSV export: the table's rows, made in the page.
      const [download] = await Promise.all([
        page.waitForEvent("download"),
        page.getByRole("button", { name: "Export CSV" }).click(),
      ]);
      assert(
        /^stratavore-usage-\d{4}-\d{2}-\d{2}-\d{4}-\d{2}-\d{2}\.csv$/.test(download.suggestedFilename()),
      );
      const text = await Deno.readTextFile((await download.path())!);
      const lines = text.trim().split(/\r\n/);
      assertEquals(lines[0], "day,project,input,output,cache_write,cache_read,total,cost_usd");
      assertEquals(lines.length - 1, perDay.length);
      const sum = lines.slice(1).reduce((s, l) => s + Number(l.split(",")[6]), 0);
      assertEquals(sum, total.total);

      // One project only.
      await page.getByLabel("Project", { exact: true }).selectOption("docs");
      await page.locator('figure#usage-chart[data-series="1"]').waitFor();
      const docs = (await client.usage({ by: "project", since, project: "docs" })).total.total;
      await page.locator(`[data-total-tokens="${docs}"]`).waitFor();

      assertEquals(b.foreignRequests(new URL(daemon.url).origin), []);
      assertEquals(b.problems, []);
    }, { screenshots: t.backend === SCREENSHOT_BACKEND });
  },
  { inProcess: true, subprocesses: true, ignore },
);
