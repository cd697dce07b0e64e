/**
 * Subscription limits in interactive sessions of the real Claude Code as a subscriber: the statusline
 * Stratavore sets reports the windows (and shows the user's own line), StopFailure marks a refused session.
 */
import { assert, assertEquals, assertMatch, eventually } from "../helpers/assert.ts";
import { runStratavore } from "../helpers/cli.ts";
import { eachRealDaemon, type RealTest } from "./harness.ts";
import { startTmux } from "../helpers/tmux.ts";
import { launchInTerminal, MODEL, prompt } from "./session.ts";
import { fiveHourRejected } from "./limits_fixture.ts";

eachRealDaemon(
  "an interactive subscriber session: its statusline reports the windows and shows the user's own line",
  async (t) => {
    const now = Math.floor(Date.now() / 1000);
    t.api.rateLimits = {
      status: "allowed",
      representativeClaim: "five_hour",
      fiveHour: { utilization: 0.63, resetsAt: now + 7200 },
      sevenDay: { utilization: 0.21, resetsAt: now + 5 * 86400 },
    };
    // The user's own statusline (in their Claude settings): Stratavore's runs it with the same stdin.
    await Deno.writeTextFile(
      `${t.claudeDir}/settings.json`,
      JSON.stringify({
        statusLine: {
          type: "command",
          command: `sh -c 'cat > "${t.claudeDir}/user-statusline.json"; echo USER-LINE-OK'`,
        },
      }),
    );
    const fine = `fine-${crypto.randomUUID()}`;
    const limited = `limited-${crypto.randomUUID()}`;
    t.api.routes.set(fine, { text: "Done here." });
    const { tmux, runner } = await launchInTerminal(t, { env: { CLAUDE_CODE_MAX_RETRIES: "0" } });
    try {
      await prompt(tmux, `${fine} go`);
      await tmux.waitFor(/Done here\./, 30_000);
      await tmux.waitFor(/USER-LINE-OK/, 30_000);
      const acct = await eventually(
        async () =>
          (await t.client.limits()).accounts.find((a) => a.windows.some((w) => w.source === "statusline")),
        30_000,
        "the statusline's report",
      );
      assertEquals(acct.key, `config:${t.claudeDir}`);
      const five = acct.windows.find((w) => w.window === "five_hour")!;
      assertEquals([five.percent, five.resetsAt], [63, new Date((now + 7200) * 1000).toISOString()]);
      assertEquals(acct.windows.find((w) => w.window === "seven_day")!.percent, 21);
      // The user's command got exactly Claude Code's JSON.
      const seen = JSON.parse(await Deno.readTextFile(`${t.claudeDir}/user-statusline.json`));
      assertEquals(typeof seen.session_id, "string");
      assertEquals((await t.client.getRunner(runner.id)).autoContinue, true);

      // The limit: the next turn is refused (StopFailure), the runner is limited until the reset.
      t.api.rateLimits = fiveHourRejected(now + 7200, { utilization: 0.21, resetsAt: now + 5 * 86400 });
      t.api.routes.set(limited, { status: 429, errorType: "rate_limit_error", errorMessage: "rate limited" });
      await prompt(tmux, `${limited} more`);
      const r = await eventually(
        async () => {
          const r = await t.client.getRunner(runner.id);
          return r.limitedUntil ? r : undefined;
        },
        30_000,
        "the runner to be limited",
      );
      assertEquals(r.limitedUntil, new Date((now + 7200) * 1000).toISOString());
      // The stream or the statusline can limit the runner before StopFailure's hook makes it 'error'.
      await eventually(
        async () => (await t.client.getRunner(runner.id)).activity === "error",
        15_000,
        "StopFailure's 'error' as the runner's activity",
      );
    } finally {
      t.api.rateLimits = undefined;
      await tmux.kill();
    }
  },
  { subscriber: true },
);

eachRealDaemon(
  "hooks install: a plain interactive claude reports its windows through the statusline, which shows the user's",
  async (t) => {
    const settings = `${t.claudeDir}/settings.json`;
    const original = JSON.stringify(
      { theme: "dark", statusLine: { type: "command", command: "cat > /dev/null; echo PLAIN-USER-LINE" } },
      null,
      2,
    ) + "\n";
    await Deno.writeTextFile(settings, original);
    const install = await runStratavore(["hooks", "install"], { env: t.env });
    assertEquals(install.code, 0, install.stderr);
    assertMatch(install.stdout, /\+ statusLine: Stratavore's .*which runs and prints yours/);
    const now = Math.floor(Date.now() / 1000);
    t.api.rateLimits = {
      status: "allowed",
      fiveHour: { utilization: 0.44, resetsAt: now + 9000 },
      sevenDay: { utilization: 0.12, resetsAt: now + 6 * 86400 },
    };
    const marker = `plain-${crypto.randomUUID()}`;
    t.api.routes.set(marker, { text: "Plain answer." });
    const env: Record<string, string> = { ...t.env, TERM: "xterm-256color" };
    delete env.STRATAVORE_HOME; // a plain session: only the user settings know of Stratavore
    const tmux = await startTmux(`claude --model ${MODEL}; sleep 30`, {
      env,
      cwd: t.dir,
      cols: 140,
      rows: 45,
    });
    try {
      await tmux.waitFor(/for shortcuts|mode on/, 60_000);
      await prompt(tmux, `${marker} hi`);
      await tmux.waitFor(/Plain answer\./, 30_000);
      await tmux.waitFor(/PLAIN-USER-LINE/, 30_000);
      const acct = await eventually(
        async () => (await t.client.limits()).accounts.find((a) => a.key === `config:${t.claudeDir}`),
        30_000,
        "the observed session's windows",
      );
      const five = acct.windows.find((w) => w.window === "five_hour")!;
      assertEquals([five.percent, five.source, five.resetsAt], [
        44,
        "statusline",
        new Date((now + 9000) * 1000).toISOString(),
      ]);
    } finally {
      t.api.rateLimits = undefined;
      await tmux.kill();
    }
    const uninstall = await runStratavore(["hooks", "uninstall"], { env: t.env });
    assertEquals(uninstall.code, 0, uninstall.stderr);
    assertEquals(await Deno.readTextFile(settings), original, "the settings file is exactly as before");
  },
  { subscriber: true },
);

/**
 * An interactive subscriber session whose first request is refused for the 5-hour window (no retries):
 * the runner once Stratavore has marked it limited, with the terminal and the window's reset.
 */
async function refusedAtFirstRequest(t: RealTest, marker: string) {
  const reset = Math.floor(Date.now() / 1000) + 5400;
  t.api.rateLimits = fiveHourRejected(reset, { utilization: 0.3, resetsAt: reset + 3 * 86400 });
  t.api.routes.set(marker, { status: 429, errorType: "rate_limit_error", errorMessage: "rate limited" });
  const { tmux, runner } = await launchInTerminal(t, { env: { CLAUDE_CODE_MAX_RETRIES: "0" } });
  try {
    await prompt(tmux, `${marker} go`);
    const limited = await eventually(
      async () => {
        const r = await t.client.getRunner(runner.id);
        return r.limitedUntil ? r : undefined;
      },
      30_000,
      "the runner to be limited",
    ).catch(async (e) => {
      console.error(await tmux.screen(), JSON.stringify(await t.client.getRunner(runner.id)));
      throw e;
    });
    return { tmux, runner: limited, reset };
  } catch (e) {
    await tmux.kill();
    throw e;
  }
}

eachRealDaemon(
  "an interactive session refused at its first request is limited until the reset once the figures come",
  async (t) => {
    const { tmux, runner: r, reset } = await refusedAtFirstRequest(t, `first-${crypto.randomUUID()}`);
    try {
      assertEquals(r.limitedUntil, new Date(reset * 1000).toISOString());
      assertMatch(await tmux.screen(), /limit/i);
      // StopFailure says which error ended the turn: Claude Code 2.1.328 names the rate limit. The runner
      // can be limited first, from the stream or the statusline, so the hook may come a moment later.
      await eventually(
        async () => /rate_limit/.test((await t.client.getRunner(r.id)).activityDetail ?? ""),
        15_000,
        "StopFailure's error as the runner's activity",
      );
      // Claude Code continues by itself after the reset (its default), and Stratavore knows it.
      assertMatch(await tmux.screen(), /continuing automatically/i);
      assertEquals(r.autoContinue, true);
    } finally {
      t.api.rateLimits = undefined;
      await tmux.kill();
    }
  },
  { subscriber: true },
);

eachRealDaemon(
  "with autoContinueAtUsageLimit off, Claude Code does not continue by itself, and the runner says so",
  async (t) => {
    await Deno.writeTextFile(
      `${t.claudeDir}/settings.json`,
      JSON.stringify({ autoContinueAtUsageLimit: false }),
    );
    const { tmux, runner: r } = await refusedAtFirstRequest(t, `off-${crypto.randomUUID()}`);
    try {
      assertEquals(r.autoContinue, false);
      await tmux.waitFor(/limit/i, 10_000);
      await new Promise((res) => setTimeout(res, 1500));
      const screen = await tmux.screen();
      assert(!/continuing automatically/i.test(screen), screen);
      const shown = await runStratavore(["runner", String(r.id)], { env: t.env });
      assertMatch(shown.stdout, /limit:\s+limited until .*continue it by hand after the reset/);
    } finally {
      t.api.rateLimits = undefined;
      await tmux.kill();
    }
  },
  { subscriber: true },
);
