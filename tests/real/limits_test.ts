/**
 * Subscription limits with the real Claude Code as a Claude.ai subscriber (a fake OAuth token; the
 * stand-in sends `anthropic-ratelimit-unified-*` headers): a headless run's windows reach the API, the CLI
 * and the metrics; a run refused for the limit is "limited until" the reset.
 */
import { assert, assertEquals, assertMatch, eventually } from "../helpers/assert.ts";
import { runStratavore } from "../helpers/cli.ts";
import { eachRealDaemon, type RealTest } from "./harness.ts";
import { startTmux } from "../helpers/tmux.ts";
import { chromiumAvailable, signIn, withBrowser } from "../web/browser.ts";
import { launchInTerminal, MODEL, prompt } from "./session.ts";

async function launchHeadless(t: RealTest, prompt: string): Promise<number> {
  const launched = await runStratavore(
    ["--json", "launch", t.project, "--detach", "--prompt", prompt],
    { env: t.env, cwd: t.dir },
  );
  assertEquals(launched.code, 0, launched.stderr);
  return JSON.parse(launched.stdout).id as number;
}

async function ended(t: RealTest, id: number) {
  return await eventually(
    async () => {
      const r = await t.client.getRunner(id);
      return ["stopped", "failed", "killed"].includes(r.state) ? r : undefined;
    },
    60_000,
    `runner ${id} to end`,
  );
}

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
        assertMatch(await bar.innerText(), /5-hour window[\s\S]*87% · resets in (59m|1h 00m)/);
        assertMatch(
          await page.locator('[data-window="seven_day"]').innerText(),
          /Weekly window[\s\S]*42% · resets in (2d 23h|3d 0h)/,
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
  t.api.rateLimits = {
    status: "rejected",
    representativeClaim: "five_hour",
    fiveHour: { utilization: 1, resetsAt: now + 1800, status: "rejected" },
    sevenDay: { utilization: 0.5, resetsAt: now + 3 * 86400 },
  };
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
      t.api.rateLimits = {
        status: "rejected",
        representativeClaim: "five_hour",
        fiveHour: { utilization: 1, resetsAt: now + 7200, status: "rejected" },
        sevenDay: { utilization: 0.21, resetsAt: now + 5 * 86400 },
      };
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
      assertEquals(r.activity, "error");
    } finally {
      t.api.rateLimits = undefined;
      await tmux.kill();
    }
  },
  { subscriber: true },
);

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** The stand-in refuses (429, rejected) until `reset`, then answers with room to spare. */
function limitUntil(t: RealTest, reset: number): void {
  const now = Math.floor(Date.now() / 1000);
  t.api.rateLimits = {
    status: "rejected",
    representativeClaim: "five_hour",
    fiveHour: { utilization: 1, resetsAt: reset, status: "rejected" },
    sevenDay: { utilization: 0.5, resetsAt: now + 3 * 86400 },
  };
  t.api.fallback = () => ({ status: 429, errorType: "rate_limit_error", errorMessage: "rate limited" });
  setTimeout(() => {
    t.api.rateLimits = {
      status: "allowed",
      representativeClaim: "five_hour",
      fiveHour: { utilization: 0.01, resetsAt: reset + 5 * 3600 },
      sevenDay: { utilization: 0.5, resetsAt: now + 3 * 86400 },
    };
    t.api.fallback = () => ({ text: "Continued." });
  }, reset * 1000 - Date.now() - 1000);
}

eachRealDaemon(
  "at the limit a launch is refused, another queued; after the reset both it and the cut-off run start, once",
  async (t) => {
    const reset = Math.floor(Date.now() / 1000) + 25;
    limitUntil(t, reset);
    try {
      const cut = await launchHeadless(t, `cut-${crypto.randomUUID()} work`);
      const limited = await ended(t, cut);
      assertEquals(limited.limitedUntil, new Date(reset * 1000).toISOString());
      assert(limited.sessionId, "the cut-off run has a session");

      // Refused, with the reset time in the reason.
      await t.client.createProject({ name: "strict", path: t.dir, limitPolicy: "refuse" });
      const refused = await runStratavore(["launch", "strict", "--detach", "--prompt", "x"], {
        env: t.env,
        cwd: t.dir,
      });
      assert(refused.code !== 0, "refused");
      assertMatch(refused.stderr, /usage limit .* is reached; it resets at \d{4}-\d\d-\d\d \d\d:\d\d UTC/);

      // Queued (this project's policy), started after the reset.
      await t.client.updateProject(t.project, { limitPolicy: "queue" });
      const queuedMarker = `queued-${crypto.randomUUID()}`;
      const queued = await runStratavore(
        ["--json", "launch", t.project, "--detach", "--prompt", `${queuedMarker} later`],
        { env: t.env, cwd: t.dir },
      );
      assertEquals(queued.code, 0, queued.stderr);
      assertEquals(JSON.parse(queued.stdout).queued.kind, "launch");
      // The cut-off run waits for the reset too (queued by the daemon's limits loop within seconds).
      await eventually(
        async () => {
          const kinds = (await t.client.limits()).queue.filter((q) => q.status === "waiting").map((q) =>
            q.kind
          );
          return kinds.sort().join() === "launch,resume";
        },
        10_000,
        "a waiting launch and a waiting resume",
      );
      assertEquals((await t.client.listRunners({ project: t.project, all: true })).length, 1);

      // After the reset: the queued launch and the resume of the cut-off run, staggered.
      const started = await eventually(
        async () => {
          const rs = await t.client.listRunners({ project: t.project, all: true });
          return rs.length >= 3 && rs.every((r) => ["stopped", "failed"].includes(r.state)) ? rs : undefined;
        },
        90_000,
        "the queued launch and the resume to run",
      );
      assert(Date.now() >= reset * 1000, "nothing started before the reset");
      const resumed = started.filter((r) => r.resumedFrom === cut);
      assertEquals(resumed.length, 1);
      assertEquals(resumed[0].state, "stopped", resumed[0].reason ?? "");
      assertEquals(resumed[0].sessionId, limited.sessionId);
      assert(resumed[0].args.includes("--resume"), resumed[0].args.join(" "));
      const fresh = started.find((r) => r.prompt?.includes(queuedMarker));
      assertEquals(fresh?.state, "stopped");
      const starts = [resumed[0], fresh!].map((r) => Date.parse(r.createdAt)).sort();
      assert(starts[1] - starts[0] >= 900, `staggered: ${starts[1] - starts[0]} ms apart`);
      // The resume message reached Claude Code in the cut-off session.
      await t.api.waitFor((r) => r.lastUserText.includes("usage limit has reset"), 1000);

      // Once and only once: the resumed run is not resumed again, nothing else starts.
      await sleep(6000);
      assertEquals((await t.client.listRunners({ project: t.project, all: true })).length, 3);
      const after = await t.client.limits();
      assertEquals(after.queue.map((q) => q.status), ["started", "started"]);
    } finally {
      t.api.rateLimits = undefined;
      t.api.fallback = () => ({});
    }
  },
  { subscriber: true, env: { CLAUDE_CODE_MAX_RETRIES: "0", STRATAVORE_LIMIT_STAGGER: "1s" } },
);

eachRealDaemon(
  "with resuming off, a run cut off by the limit stays stopped after the reset",
  async (t) => {
    const reset = Math.floor(Date.now() / 1000) + 12;
    limitUntil(t, reset);
    try {
      const cut = await launchHeadless(t, `cut-${crypto.randomUUID()} work`);
      assert((await ended(t, cut)).limitedUntil);
      await sleep(Math.max(0, reset * 1000 - Date.now()) + 6000);
      const runners = await t.client.listRunners({ project: t.project, all: true });
      assertEquals(runners.map((r) => r.id), [cut]);
      const l = await t.client.limits();
      assertEquals([l.resume, l.queue.length], [false, 0]);
    } finally {
      t.api.rateLimits = undefined;
      t.api.fallback = () => ({});
    }
  },
  { subscriber: true, env: { CLAUDE_CODE_MAX_RETRIES: "0", STRATAVORE_LIMIT_RESUME: "false" } },
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
  t.api.rateLimits = {
    status: "rejected",
    representativeClaim: "five_hour",
    fiveHour: { utilization: 1, resetsAt: reset, status: "rejected" },
    sevenDay: { utilization: 0.3, resetsAt: reset + 3 * 86400 },
  };
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
      // StopFailure says which error ended the turn: Claude Code 2.1.328 names the rate limit.
      assertMatch(r.activityDetail ?? "", /rate_limit/);
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
