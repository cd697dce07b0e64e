/**
 * The fleet and runner pages in headless Chromium against a real daemon: a runner launched through the
 * API appears within a second of its event, its waiting-for-input badge too; a detached runner's log is
 * shown readably and it is stopped from its page; kill asks first; the page says "reconnecting" while the
 * daemon is away and catches up after; it fits a phone; nothing is fetched from another origin.
 */
import { assert, assertEquals, eventually } from "../helpers/assert.ts";
import { eachDaemon } from "../helpers/daemon.ts";
import { CI } from "../helpers/env.ts";
import { chromiumAvailable, PHONE, signIn, withBrowser } from "./browser.ts";
import { tapEvents } from "./events_tap.ts";
import { SCREENSHOT_BACKEND, seedFleet } from "./scene.ts";

const ignore = !chromiumAvailable() && !CI;

eachDaemon("web: the fleet follows runners live; stop, kill and reconnecting", async (t) => {
  const { daemon, client } = t;
  const seeded = await seedFleet(t);
  const shots = t.backend === SCREENSHOT_BACKEND;
  await withBrowser(async (b) => {
    const page = await b.newPage();
    await signIn(page, daemon.url, daemon.token);
    await page.locator('[data-project="api"]').waitFor();
    const tap = await tapEvents(daemon.url, daemon.token);

    // A runner launched through the API appears within a second of its event.
    const rowSeen = (id: number) => page.locator(`tr[data-runner="${id}"]`).waitFor().then(() => Date.now());
    const launched = await client.launch({ project: "web", labels: { via: "api" } });
    const id = launched.runner.id;
    const [eventAt, rowAt] = await Promise.all([tap.seen("runner.launched", id), rowSeen(id)]);
    console.log(`runner ${id}: row ${rowAt - eventAt} ms after the event reached a client`);
    assert(rowAt - eventAt < 1000, `the row appeared ${rowAt - eventAt} ms after the event`);
    assertEquals(await page.locator(`tr[data-runner="${id}"]`).getAttribute("data-state"), "starting");
    await page.locator('[data-project="web"] [data-quota="1/1"]').waitFor();

    // Its agent starts it and reports; Claude Code then waits for input: the badge shows within a second.
    const agent = client.withToken(launched.token);
    await agent.started(id, { pid: 4242, host: "laptop" });
    await page.locator(`tr[data-runner="${id}"][data-state="running"]`).waitFor();
    await agent.heartbeat(id, { cpuPercent: 12.5, rssBytes: 312 * 1024 * 1024 });
    await agent.claudeHook(id, {
      session_id: "s-fleet",
      hook_event_name: "Notification",
      notification_type: "idle_prompt",
      message: "waiting",
    });
    const badgeSeen = page.locator(`tr[data-runner="${id}"] [data-activity="waiting_for_input"]`).waitFor()
      .then(() => Date.now());
    const [activityAt, badgeAt] = await Promise.all([tap.seen("runner.activity", id), badgeSeen]);
    assert(badgeAt - activityAt < 1000, `the badge appeared ${badgeAt - activityAt} ms after the event`);
    // CPU and memory are heartbeats, not events: the poll brings them within a few seconds.
    await page.locator(`tr[data-runner="${id}"] td[data-label="Memory"]`, { hasText: "312 MiB" })
      .waitFor({ timeout: 8000 });
    await page.locator(`tr[data-runner="${id}"] td[data-label="CPU"]`, { hasText: "13%" }).waitFor();

    if (shots) {
      await b.screenshot(page, "fleet-laptop", { fullPage: true });
      const phone = await b.newPage(PHONE);
      await signIn(phone, daemon.url, daemon.token);
      await phone.locator(`tr[data-runner="${id}"]`).waitFor();
      await phone.locator(`tr[data-runner="${seeded.detached}"]`).waitFor();
      const overflow = await phone.evaluate(() =>
        (globalThis as unknown as { document: { documentElement: { scrollWidth: number } } }).document
          .documentElement.scrollWidth
      );
      assert(overflow <= PHONE.width, `the fleet fits a phone (scroll width ${overflow})`);
      await b.screenshot(phone, "fleet-phone", { fullPage: true });
      await phone.close();
    }

    // The detached runner's page: details, readable log, events; stop it from there.
    const detached = seeded.detached;
    await page.locator(`tr[data-runner="${detached}"] a`).click();
    await page.getByRole("heading", { name: `Runner #${detached}` }).waitFor();
    await page.locator('[data-runner-page] .badge[data-state="running"]').waitFor();
    await page.locator(".log .log-init").first().waitFor();
    await page.locator(".log .log-text").first().waitFor();
    await page.locator(`.timeline li[data-type="runner.started"]`).waitFor();
    if (shots) await b.screenshot(page, "runner", { fullPage: true });
    await page.getByRole("button", { name: "Stop" }).click();
    await page.locator(
      '[data-runner-page] .badge[data-state="stopping"], [data-runner-page] .badge[data-state="stopped"]',
    )
      .first().waitFor();
    await page.locator('[data-runner-page] .badge[data-state="stopped"]').waitFor({ timeout: 20_000 });
    await page.locator(`.timeline li[data-type="runner.stopped"]`).waitFor();
    assertEquals((await client.getRunner(detached)).state, "stopped");
    assert(await page.getByRole("button", { name: "Stop" }).isDisabled(), "no stop for an ended runner");

    // Kill asks first: Cancel leaves it running, confirming kills it.
    await page.goto(`${daemon.url}/#/runners/${id}`);
    await page.locator('[data-runner-page] .badge[data-state="running"]').waitFor();
    await page.getByRole("button", { name: "Kill", exact: true }).click();
    const dialog = page.getByRole("dialog", { name: `Kill runner #${id}?` });
    await dialog.waitFor();
    await dialog.getByRole("button", { name: "Cancel" }).click();
    await dialog.waitFor({ state: "hidden" });
    assertEquals((await client.getRunner(id)).state, "running");
    await page.getByRole("button", { name: "Kill", exact: true }).click();
    await dialog.waitFor();
    await page.keyboard.press("Escape");
    await dialog.waitFor({ state: "hidden" });
    assertEquals((await client.getRunner(id)).state, "running");
    await page.getByRole("button", { name: "Kill", exact: true }).click();
    await dialog.waitFor();
    await dialog.getByRole("button", { name: "Kill now" }).click();
    await page.locator('[data-runner-page] .badge[data-state="killed"]').waitFor();
    assertEquals((await client.getRunner(id)).state, "killed");
    tap.close();

    // The daemon goes away: the page says so, and catches up when it is back.
    await page.goto(`${daemon.url}/#/`);
    await page.locator('[data-stream="live"]').waitFor();
    await daemon.stop();
    await page.locator('[data-stream="reconnecting"]').waitFor({ timeout: 10_000 });
    assertEquals(await page.getByRole("status").filter({ hasText: "reconnecting" }).count(), 1);
    await t.restart();
    await page.locator('[data-stream="live"]').waitFor({ timeout: 30_000 });
    const after = await client.launch({ project: "api" });
    await page.locator(`tr[data-runner="${after.runner.id}"]`).waitFor({ timeout: 5000 });
    await client.killRunner(after.runner.id);
    await page.locator(`tr[data-runner="${after.runner.id}"][data-state="killed"]`).waitFor();

    await eventually(() => b.requests.length > 0);
    assertEquals(b.foreignRequests(new URL(daemon.url).origin), [], "requests to other origins");
    assertEquals(b.problems, []);
  }, { screenshots: shots });
}, { ignore, fixedPort: true, env: { STRATAVORE_HEARTBEAT_INTERVAL: "1s" } });
