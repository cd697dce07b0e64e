/**
 * Reach and fit of the web dashboard in headless Chromium against a real daemon: every page (fleet, a
 * runner, launch, usage, events) fits a phone without sideways scrolling; and with the keyboard alone one
 * signs in and stops a runner from its page, the focused control always visibly outlined.
 */
import type { Page } from "playwright-core";
import { assert, assertEquals, eventually } from "../helpers/assert.ts";
import { eachDaemon } from "../helpers/daemon.ts";
import { CI } from "../helpers/env.ts";
import { chromiumAvailable, LAPTOP, PHONE, signIn, withBrowser } from "./browser.ts";
import { seedFleet } from "./scene.ts";

const ignore = !chromiumAvailable() && !CI;

interface Doc {
  documentElement: { scrollWidth: number };
  activeElement: Focused | null;
}
interface Focused {
  tagName: string;
  id: string;
  textContent: string | null;
}
type Win = {
  document: Doc;
  getComputedStyle(e: Focused): { outlineStyle: string; outlineWidth: string; boxShadow: string };
};

const scrollWidth = (page: Page) =>
  page.evaluate(() => (globalThis as unknown as Win).document.documentElement.scrollWidth);

/** What has the focus: tag, id and text, and whether an outline or a shadow marks it. */
const focused = (page: Page) =>
  page.evaluate(() => {
    const w = globalThis as unknown as Win;
    const el = w.document.activeElement;
    if (!el) return { tag: "", id: "", text: "", visible: false };
    const s = w.getComputedStyle(el);
    const outline = s.outlineStyle !== "none" && parseFloat(s.outlineWidth) > 0;
    return {
      tag: el.tagName.toLowerCase(),
      id: el.id,
      text: (el.textContent ?? "").trim(),
      visible: outline || (s.boxShadow !== "none" && s.boxShadow !== ""),
    };
  });

/** Presses Tab until `want` holds for the focused element (at most `max` presses); returns it. */
async function tabTo(
  page: Page,
  want: (f: Awaited<ReturnType<typeof focused>>) => boolean,
  what: string,
  max = 40,
) {
  const seen: string[] = [];
  for (let i = 0; i < max; i++) {
    await page.keyboard.press("Tab");
    const f = await focused(page);
    if (want(f)) return f;
    seen.push(`${f.tag}#${f.id}:${f.text.slice(0, 20)}`);
  }
  throw new Error(`${what} not reached in ${max} Tab presses; focus went ${seen.join(" → ")}`);
}

eachDaemon("web: every page fits a phone without sideways scrolling", async (t) => {
  const { daemon } = t;
  const seeded = await seedFleet(t);
  await withBrowser(async (b) => {
    const page = await b.newPage(PHONE);
    await signIn(page, daemon.url, daemon.token);
    const pages: [string, () => Promise<void>][] = [
      ["#/", () => page.locator(`tr[data-runner="${seeded.detached}"]`).waitFor()],
      [`#/runners/${seeded.detached}`, async () => {
        await page.getByRole("heading", { name: `Runner #${seeded.detached}` }).waitFor();
        await page.locator(".log .log-line").first().waitFor();
        await page.locator(".timeline li").first().waitFor();
      }],
      [`#/runners/${seeded.usageRunners.api}`, async () => {
        await page.getByRole("heading", { name: `Runner #${seeded.usageRunners.api}` }).waitFor();
        await page.locator(".timeline li").first().waitFor();
      }],
      ["#/launch", () => page.getByRole("heading", { name: "Launch a detached runner" }).waitFor()],
      ["#/usage", () => page.locator("figure#usage-chart").waitFor()],
      ["#/events", () => page.locator("table.events tbody tr").first().waitFor()],
    ];
    const wide: string[] = [];
    for (const [hash, rendered] of pages) {
      await page.goto(`${daemon.url}/${hash}`);
      await rendered();
      const width = await scrollWidth(page);
      if (width > PHONE.width) wide.push(`${hash}: scroll width ${width}`);
    }
    assertEquals(wide, [], `pages wider than a ${PHONE.width} px phone`);
    assertEquals(b.problems, []);
  });
}, { inProcess: true, subprocesses: true, only: "pglite", ignore });

eachDaemon("web: sign in and stop a runner with the keyboard alone, focus visible", async (t) => {
  const { daemon, client } = t;
  const seeded = await seedFleet(t);
  const id = seeded.detached;
  await withBrowser(async (b) => {
    const page = await b.newPage(LAPTOP);
    await page.goto(`${daemon.url}/`);
    await page.getByLabel("Admin token").waitFor();

    const field = await tabTo(page, (f) => f.id === "signin-token", "the Admin token field");
    assert(field.visible, "the focused token field is outlined");
    await page.keyboard.type(daemon.token);
    await page.keyboard.press("Enter");
    await page.locator('[data-stream="live"]').waitFor();

    await page.goto(`${daemon.url}/#/runners/${id}`);
    await page.locator('[data-runner-page] .badge[data-state="running"]').waitFor();
    const stop = await tabTo(page, (f) => f.tag === "button" && f.text === "Stop", "the Stop button");
    assert(stop.visible, "the focused Stop button is outlined");
    await page.keyboard.press("Enter");
    await eventually(
      async () => ["stopping", "stopped"].includes((await client.getRunner(id)).state),
      10_000,
      "stopping after Enter on Stop",
    );
    await page.locator('[data-runner-page] .badge[data-state="stopped"]').waitFor({ timeout: 20_000 });
    assertEquals((await client.getRunner(id)).state, "stopped");
    assertEquals(b.problems, []);
  });
}, { inProcess: true, subprocesses: true, only: "pglite", ignore });
