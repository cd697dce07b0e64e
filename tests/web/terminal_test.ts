/**
 * The runner page's terminal (xterm.js) in headless Chromium against a real daemon and a detached fake
 * interactive claude: it replays the screen and follows live output read-only, so keys typed there go
 * nowhere and a terminal attached elsewhere keeps the keyboard; "Take the keyboard" sends keys to the
 * session, the other viewer sees who holds it, and "Watch only" gives it back.
 */
import { assert, assertEquals, eventually } from "../helpers/assert.ts";
import { projectFolder } from "../helpers/agent.ts";
import { eachDaemon } from "../helpers/daemon.ts";
import { CI } from "../helpers/env.ts";
import { attachViewer } from "../helpers/pty.ts";
import { chromiumAvailable, signIn, withBrowser } from "./browser.ts";
import { SCREENSHOT_BACKEND } from "./scene.ts";

const ignore = !chromiumAvailable() && !CI;

eachDaemon("web: a runner's terminal is read-only until you take the keyboard", async (t) => {
  const { daemon, client } = t;
  await client.createProject({ name: "tty", path: await projectFolder(daemon.home, "tty") });
  await Deno.writeTextFile(t.planFile, JSON.stringify({ interactive: true, hooks: [] }));
  const { runner } = await client.launch({ project: "tty", spawn: true });
  await eventually(async () => (await client.getRunner(runner.id)).state === "running", 20_000, "running");

  // Someone attached in a terminal types first: the page must replay it.
  const cli = await attachViewer(client, runner.id, "rw", "alice");
  await cli.waitFor(/> /);
  cli.type("from the terminal\r");
  await cli.waitFor(/you said: from the terminal/);

  await withBrowser(async (b) => {
    const page = await b.newPage();
    await signIn(page, daemon.url, daemon.token);
    await page.goto(`${daemon.url}/#/runners/${runner.id}`);
    const screen = page.locator(`[data-terminal="${runner.id}"] .xterm-rows`);
    await screen.filter({ hasText: "you said: from the terminal" }).waitFor({ timeout: 10_000 });
    const status = page.locator("[data-terminal-status]");
    await status.filter({ hasText: "alice holds the keyboard" }).waitFor();

    // Read-only: keys typed into the page's terminal reach nobody.
    await page.locator(`[data-terminal="${runner.id}"]`).click();
    await page.keyboard.type("nope");
    await page.keyboard.press("Enter");
    cli.type("still mine\r");
    await cli.waitFor(/you said: still mine/);
    await screen.filter({ hasText: "you said: still mine" }).waitFor();
    assert(!cli.screen().includes("nope"), "a read-only page sent keys");

    // Take the keyboard: the page's keys go to the session and the terminal viewer sees who holds it.
    await page.getByRole("button", { name: "Take the keyboard" }).click();
    await status.filter({ hasText: "you hold the keyboard" }).waitFor();
    await eventually(
      () => cli.control.some((m) => m.t === "keyboard" && m.holder === "web"),
      5000,
      "the terminal viewer is told the page holds the keyboard",
    );
    await page.locator(`[data-terminal="${runner.id}"]`).click();
    await page.keyboard.type("hello from the browser");
    await page.keyboard.press("Enter");
    await screen.filter({ hasText: "you said: hello from the browser" }).waitFor();
    await cli.waitFor(/you said: hello from the browser/);
    if (t.backend === SCREENSHOT_BACKEND) {
      await page.locator("#terminal-title").scrollIntoViewIfNeeded();
      await b.screenshot(page, "terminal");
    }

    // Watch only: back to read-only; the terminal viewer types again.
    await page.getByRole("button", { name: "Watch only" }).click();
    await page.getByRole("button", { name: "Take the keyboard" }).waitFor();
    cli.type("/exit 3\r");
    await status.filter({ hasText: "exit code 3" }).waitFor({ timeout: 10_000 });
    assertEquals(b.problems, []);
  }, { screenshots: t.backend === SCREENSHOT_BACKEND });
  await cli.closed;
  const done = await eventually(async () => {
    const r = await client.getRunner(runner.id);
    return r.state === "failed" ? r : undefined;
  }, 15_000);
  assertEquals(done.exitCode, 3);
}, { inProcess: true, subprocesses: true, ignore });
