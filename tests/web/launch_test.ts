/**
 * The launch form in headless Chromium: a launch over the project's quota and one over an exhausted budget
 * are refused with the API's own reason shown; a good launch starts a detached runner with the extra
 * arguments and opens its page.
 */
import { ApiError } from "../../lib/client.ts";
import { assert, assertEquals, assertRejects, eventually } from "../helpers/assert.ts";
import { eachDaemon } from "../helpers/daemon.ts";
import { CI } from "../helpers/env.ts";
import { chromiumAvailable, signIn, withBrowser } from "./browser.ts";
import { SCREENSHOT_BACKEND, seedFleet } from "./scene.ts";

const ignore = !chromiumAvailable() && !CI;

eachDaemon("web: launches refused by a quota or a budget show the API's reason", async (t) => {
  const { daemon, client } = t;
  await seedFleet(t, { detached: false });
  const busy = await client.launch({ project: "web" }); // web's quota is 1: now full
  // What the API says to the same launch (the page must show exactly this).
  const refusal = await assertRejects(
    () => client.launch({ project: "web", spawn: true, prompt: "x" }),
    ApiError,
  );
  assertEquals(refusal.apiCode, "quota_exceeded");

  await withBrowser(async (b) => {
    const page = await b.newPage();
    await signIn(page, daemon.url, daemon.token);
    await page.goto(`${daemon.url}/#/launch?project=web`);
    await page.getByRole("heading", { name: "Launch a detached runner" }).waitFor();
    // The project list loads after the heading; the form then selects the project from the link.
    await eventually(
      async () => (await page.getByLabel("Project").inputValue()) === "web",
      10_000,
      "web selected",
    );
    await page.getByLabel("Prompt").fill("Refactor the router and keep the tests green");
    await page.getByLabel("Extra arguments").fill("--model opus");
    await page.getByRole("button", { name: "Launch" }).click();
    const alert = page.getByRole("alert");
    await alert.waitFor();
    assertEquals(await alert.getAttribute("data-code"), "quota_exceeded");
    assertEquals(
      (await alert.locator(".error-title").textContent())?.trim(),
      "Refused: the project's runner quota is full",
    );
    assertEquals((await alert.locator(".error-message").textContent())?.trim(), refusal.message);
    assert(refusal.message.includes(String(busy.runner.id)), refusal.message);
    assertEquals(
      await page.getByLabel("Prompt").inputValue(),
      "Refactor the router and keep the tests green",
    );
    if (t.backend === SCREENSHOT_BACKEND) await b.screenshot(page, "launch-refused");

    // docs used ~0.8M tokens today; a 1,000-token block budget refuses the next launch (429).
    await client.setBudget("project", "docs", { tokens: 1000, period: "day", policy: "block" });
    const budgetRefusal = await assertRejects(
      () => client.launch({ project: "docs", spawn: true, prompt: "x" }),
      ApiError,
    );
    assertEquals(budgetRefusal.httpStatus, 429);
    await page.getByLabel("Project").selectOption("docs");
    await page.getByRole("button", { name: "Launch" }).click();
    await page.locator('[role="alert"][data-code="budget_exceeded"]').waitFor();
    assertEquals(
      (await page.locator('[role="alert"] .error-message').textContent())?.trim(),
      budgetRefusal.message,
    );
    assertEquals(
      (await page.locator('[role="alert"] .error-title').textContent())?.trim(),
      "Refused: a budget is used up",
    );

    // A launch that fits: the runner page opens and the arguments reached the runner.
    await page.getByLabel("Project").selectOption("api");
    await page.getByLabel("Extra arguments").fill(`--model opus --append-system-prompt "be brief"`);
    await page.getByRole("button", { name: "Launch" }).click();
    await page.waitForURL(/#\/runners\/\d+$/);
    const id = Number(/(\d+)$/.exec(page.url())![1]);
    const runner = await client.getRunner(id);
    assertEquals(runner.project, "api");
    assertEquals(runner.prompt, "Refactor the router and keep the tests green");
    assert(
      runner.args.join(" ").endsWith("--model opus --append-system-prompt be brief"),
      `args: ${JSON.stringify(runner.args)}`,
    );
    await page.getByRole("heading", { name: `Runner #${id}` }).waitFor();
    await eventually(async () => (await client.getRunner(id)).state === "stopped", 30_000, "stopped");
    await page.locator('[data-runner-page] .badge[data-state="stopped"]').waitFor();
    await page.locator(".log .log-done").waitFor();

    assertEquals(b.foreignRequests(new URL(daemon.url).origin), []);
    assertEquals(b.problems, []);
  }, { screenshots: t.backend === SCREENSHOT_BACKEND });
}, { inProcess: true, subprocesses: true, ignore });
