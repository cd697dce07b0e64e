/**
 * Every Claude session on the machine, once `stratavore hooks install` ran: a plain `claude` started outside
 * Stratavore appears as an observed runner of the project whose folder it runs in, with its tokens and Claude
 * Code's own cost; a `block` budget refuses its next prompt with a clear message; `hooks uninstall` puts
 * the settings file back exactly as it was.
 */
import { assert, assertEquals, assertMatch, eventually } from "../helpers/assert.ts";
import { runStratavore } from "../helpers/cli.ts";
import { eachRealDaemon } from "./harness.ts";
import { billed } from "./session.ts";

async function plainClaude(env: Record<string, string>, cwd: string, prompt: string) {
  const out = await new Deno.Command("claude", {
    args: ["-p", prompt, "--model", "claude-sonnet-5-5"],
    env,
    clearEnv: true,
    cwd,
    stdout: "piped",
    stderr: "piped",
  }).output();
  const dec = new TextDecoder();
  return { code: out.code, stdout: dec.decode(out.stdout), stderr: dec.decode(out.stderr) };
}

eachRealDaemon(
  "hooks install: a plain claude is an observed runner, accounted, and blocked by a budget",
  async (t) => {
    const settings = `${t.claudeDir}/settings.json`;
    const original = JSON.stringify({ theme: "dark", env: { MY_SETTING: "1" } }, null, 4) + "\n";
    await Deno.writeTextFile(settings, original);

    const install = await runStratavore(["hooks", "install"], { env: t.env });
    assertEquals(install.code, 0, install.stderr);
    assertMatch(install.stdout, /\+ hooks\.PermissionRequest: http POST .*\/api\/v1\/observed\/claude-hook/);
    assertMatch(install.stdout, /backup of what was there/);
    const again = await runStratavore(["hooks", "install"], { env: t.env });
    assertEquals(again.code, 0, again.stderr);
    const installed = JSON.parse(await Deno.readTextFile(settings));
    assertEquals(installed.hooks.Stop.length, 1, "installing twice adds the hooks once");
    assertEquals([installed.theme, installed.env.MY_SETTING], ["dark", "1"], "your settings are kept");
    const status = await runStratavore(["--json", "hooks", "status"], { env: t.env });
    assertEquals(JSON.parse(status.stdout).installed, true);

    // A budget over the project with policy block (budgets count usage from when they are set).
    await t.client.setBudget("project", t.project, { tokens: 2000, period: "none", policy: "block" });
    // A session started outside Stratavore, in the project's folder.
    const marker = `plain-${crypto.randomUUID()}`;
    t.api.routes.set(marker, {
      text: "Observed answer.",
      usage: { input: 2200, output: 90, cacheRead: 400 },
    });
    const env = { ...t.env };
    delete env.STRATAVORE_HOME; // nothing of Stratavore's in this session's environment but the user settings
    const run = await plainClaude(env, t.dir, `${marker} hi`);
    assertEquals(run.code, 0, run.stderr);
    const observed = await eventually(
      async () => {
        const [r] = await t.client.listRunners({ project: t.project, all: true });
        return r?.mode === "observed" && r.state === "stopped" ? r : undefined;
      },
      20_000,
      "an observed runner of the project, ended with its session",
    );
    const expected = billed(t.api);
    const costed = await eventually(
      async () => {
        const r = await t.client.getRunner(observed.id);
        return Math.abs(r.cost.usd - expected) < 1e-6 ? r : undefined;
      },
      20_000,
      `its cost to be Claude Code's $${expected}`,
    );
    assertEquals(costed.cost.source, "claude-code");
    assertEquals(costed.tokens.input, 2200);
    const kill = await runStratavore(["kill", String(observed.id), "--yes"], { env: t.env });
    assert(kill.code !== 0, "an ended observed runner is not killed");

    // A budget over the project with policy block: the next prompt of a plain session is refused.
    await t.client.setBudget("project", t.project, { tokens: 1000, period: "none", policy: "block" });
    const blockedMarker = `blocked-${crypto.randomUUID()}`;
    const blocked = await plainClaude(env, t.dir, `${blockedMarker} more`);
    assertMatch(blocked.stdout + blocked.stderr, /budget project\/app is exhausted/);
    assertEquals(
      t.api.requests.filter((q) => q.lastUserText.includes(blockedMarker)).length,
      0,
      "never sent",
    );

    const uninstall = await runStratavore(["hooks", "uninstall"], { env: t.env });
    assertEquals(uninstall.code, 0, uninstall.stderr);
    assertEquals(await Deno.readTextFile(settings), original, "the settings file is exactly as before");
  },
);
