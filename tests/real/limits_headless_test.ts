/**
 * Subscription limits with the real Claude Code as a Claude.ai subscriber (a fake OAuth token; the
 * stand-in sends `anthropic-ratelimit-unified-*` headers): a headless run's windows reach the API, the CLI
 * and the metrics; a run refused for the limit is "limited until" the reset. The files limits_reset_test.ts
 * (what happens at the reset) and limits_interactive_test.ts (statusline, hooks) follow on; three files so the
 * test runner can run them side by side.
 */
import { assert, assertEquals, assertMatch, eventually } from "../helpers/assert.ts";
import { runStratavore } from "../helpers/cli.ts";
import { eachRealDaemon } from "./harness.ts";
import { chromiumAvailable, signIn, withBrowser } from "../web/browser.ts";
import { ended, fiveHourRejected, launchHeadless } from "./limits_fixture.ts";

eachRealDaemon("a headless subscriber run reports its 5-hour and weekly windows", async (t) => {
  const now = Math.floor(Date.now() / 1000);
  t.api.rateLimits = {
    status: "allowed_warning",
    representativeClaim: "five_hour",
    fiveHour: { utilization: 0.87, resetsAt: now + 3600, status: "allowed_warning" },
    sevenDay: { utilization: 0.42, resetsAt: now + 3 * 86400 },
  };
  try {
    const id = await launchHeadless(t, `limits-${crypto.randomUUID()} hello`);
    const done = await ended(t, id);
    assertEquals(done.state, "stopped", done.reason ?? "");
    const limits = await eventually(
      async () => {
        const l = await t.client.limits();
        return l.accounts.length ? l : undefined;
      },
      10_000,
      "the windows to be reported",
    );
    const [acct] = limits.accounts;
    // No Claude login recorded in the config folder (a fake token): keyed by the folder, and says so.
    assertEquals([acct.kind, acct.key], ["config_dir", `config:${t.claudeDir}`]);
    const five = acct.windows.find((w) => w.window === "five_hour")!;
    const seven = acct.windows.find((w) => w.window === "seven_day")!;
    assertEquals([five.percent, five.status, five.source], [87, "allowed_warning", "stream"]);
    assertEquals(five.resetsAt, new Date((now + 3600) * 1000).toISOString());
    assertEquals([seven.percent, seven.status], [42, "allowed"]);
    // 87 % crossed the 80 % threshold: one warning.
    await eventually(
      async () => (await t.client.recentEvents({ types: "limits.warning" })).length === 1,
      10_000,
      "one limits.warning",
    );
    const cli = await runStratavore(["limits"], { env: t.env });
    assertMatch(cli.stdout, /5-hour .* 87%\s+in (59m\d*s?|1h)/);
    const status = await runStratavore(["status"], { env: t.env });
    assertMatch(
      status.stdout,
      /limits:\s+5-hour 87% \(resets in (59m\d*s?|1h)\), weekly 42% \(resets in (2d23h|3d)\)/,
    );

    // Prometheus: utilisation and seconds to reset per account and window.
    const metrics = await (await fetch(`${t.daemon.url}/api/v1/metrics`, {
      headers: { authorization: `Bearer ${t.daemon.token}` },
    })).text();
    const series = (name: string, window: string) =>
      Number(
        metrics.split("\n").find((l) =>
          l.startsWith(`${name}{`) && l.includes(`window="${window}"`) && l.includes(t.claudeDir)
        )?.split(" ").at(-1),
      );
    assertEquals(series("stratavore_limit_utilization", "five_hour"), 0.87);
    assertEquals(series("stratavore_limit_utilization", "seven_day"), 0.42);
    const left = series("stratavore_limit_seconds_to_reset", "five_hour");
    assert(left > 3000 && left <= 3600, `seconds to reset ${left}`);
    assertEquals(series("stratavore_limit_limited", "five_hour"), 0);

    // The web fleet page: a bar per window with the time to reset.
    if (chromiumAvailable()) {
      await withBrowser(async (b) => {
        const page = await b.newPage();
        await signIn(page, t.daemon.url, t.daemon.token);
        await page.goto(`${t.daemon.url}/#/`);
        const bar = page.locator('[data-window="five_hour"][data-percent="87"]');
        await bar.waitFor();
        assertMatch(await bar.innerText(), /5-hour window[\s\S]*87% · resets in (59m\d*s?|1h)/);
        assertMatch(
          await page.locator('[data-window="seven_day"]').innerText(),
          /Weekly window[\s\S]*42% · resets in (2d23h|3d)/,
        );
        // The usage page charts the windows' history.
        await page.goto(`${t.daemon.url}/#/usage`);
        const chart = page.locator('#limits-chart[data-series="2"]');
        await chart.waitFor();
        assert(Number(await chart.getAttribute("data-points")) >= 2, "samples drawn");
      });
    }
  } finally {
    t.api.rateLimits = undefined;
  }
}, { subscriber: true });

eachRealDaemon("a headless run refused for the limit is limited until the reset", async (t) => {
  const now = Math.floor(Date.now() / 1000);
  const marker = `limited-${crypto.randomUUID()}`;
  t.api.rateLimits = fiveHourRejected(now + 1800, { utilization: 0.5, resetsAt: now + 3 * 86400 });
  t.api.routes.set(marker, { status: 429, errorType: "rate_limit_error", errorMessage: "rate limited" });
  try {
    const id = await launchHeadless(t, `${marker} hello`);
    const done = await ended(t, id);
    const until = new Date((now + 1800) * 1000).toISOString();
    assertEquals(done.limitedUntil, until);
    assertEquals(done.limitedWindow, "five_hour");
    assertMatch(done.reason ?? "", /usage limit/);
    const [acct] = (await t.client.limits()).accounts;
    assertEquals(acct.limitedUntil, until);
    const types = (await t.client.recentEvents({ types: "limits.*,runner.limited" })).map((e) => e.type);
    assert(types.includes("limits.reached") && types.includes("runner.limited"), types.join());
  } finally {
    t.api.rateLimits = undefined;
  }
}, { subscriber: true, env: { CLAUDE_CODE_MAX_RETRIES: "0" } });
