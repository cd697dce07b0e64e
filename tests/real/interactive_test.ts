/**
 * The real Claude Code launched interactively in a terminal (tmux) through `stratavore launch`: prompt →
 * busy → idle; a tool call → permission dialog → waiting for input → approved → idle; `/clear` followed to
 * the new session; `/exit` → stopped, exit 0. Tokens equal ccusage's on the transcripts, and the cost equals
 * Claude Code's own for what the stand-in billed.
 */
import { assert, assertEquals, assertMatch, eventually } from "../helpers/assert.ts";
import { startTmux, type Tmux } from "../helpers/tmux.ts";
import { MAIN } from "../helpers/env.ts";
import { costOf } from "../../lib/claude/pricing.ts";
import type { Runner } from "../../lib/schemas/runner.ts";
import type { StratavoreClient } from "../../lib/client.ts";
import { ccusageSessions } from "./claude_code.ts";
import type { MessagesApi } from "./messages_api.ts";
import { eachRealDaemon } from "./harness.ts";

export const MODEL = "claude-sonnet-5-5";

/** What Claude Code charges for everything the stand-in answered (its prices are checked in prices_test). */
export function billed(api: MessagesApi): number {
  return api.requests.filter((r) => r.usage).reduce((sum, r) => {
    const u = r.usage!;
    return sum + costOf({
      input: u.input,
      output: u.output,
      cacheCreation: u.cacheWrite5m + u.cacheWrite1h,
      cacheCreation1h: u.cacheWrite1h,
      cacheRead: u.cacheRead,
    }, r.model).usd;
  }, 0);
}

export async function activeRunner(client: StratavoreClient, project: string): Promise<Runner> {
  return await eventually(async () => {
    const [r] = await client.listRunners({ project });
    return r?.state === "running" ? r : undefined;
  }, 60_000, "the runner to be running");
}

export async function activityBecomes(
  client: StratavoreClient,
  id: number,
  activity: Runner["activity"],
  timeoutMs = 20_000,
): Promise<Runner> {
  return await eventually(async () => {
    const r = await client.getRunner(id);
    return r.activity === activity ? r : undefined;
  }, timeoutMs, `runner ${id} to be ${activity}`);
}

/** Claude Code's input box: the `❯` line right under a rule (the transcript's echoed prompts have none). */
function inputBox(screen: string): string | undefined {
  const lines = screen.split("\n");
  const i = lines.findLastIndex((l, n) => l.startsWith("❯") && n > 0 && lines[n - 1].startsWith("─"));
  return i >= 0 ? lines[i] : undefined;
}

/**
 * Types a prompt into Claude Code's input box and submits it: Enter is sent once the text shows in the box
 * (keys typed faster are taken as a paste), and again only while the box still holds it (a second Enter
 * must never reach a dialog the prompt opened).
 */
export async function prompt(tmux: Tmux, text: string): Promise<void> {
  await tmux.send("-l", text);
  await eventually(async () => inputBox(await tmux.screen())?.includes(text), 15_000, `"${text}" typed`);
  for (let attempt = 0; attempt < 5; attempt++) {
    await new Promise((r) => setTimeout(r, 400));
    await tmux.send("Enter");
    const sent = await eventually(
      async () => !inputBox(await tmux.screen())?.includes(text) || undefined,
      2000,
      "submitted",
    ).catch(() => false);
    if (sent) return;
  }
  throw new Error(`the prompt "${text}" was not submitted:\n${await tmux.screen()}`);
}

eachRealDaemon("interactive launch: states, a permission dialog, /clear and /exit; tokens and cost exact", async (t) => {
  const first = `first-${crypto.randomUUID()}`;
  const tool = `tool-${crypto.randomUUID()}`;
  const toolOutput = `ran-${crypto.randomUUID().slice(0, 8)}`;
  const third = `third-${crypto.randomUUID()}`;
  t.api.routes.set(first, { text: "Hello from the stand-in.", usage: { input: 1500, output: 120 } });
  t.api.routes.set(tool, {
    toolUse: { name: "Bash", input: { command: `touch made-${toolOutput} && echo ${toolOutput}`, description: "Make a file" } },
    usage: { input: 1800, output: 60 },
  });
  t.api.routes.set(toolOutput, { text: "The command printed the word.", usage: { input: 2100, output: 30 } });
  t.api.routes.set(third, { text: "A fresh session.", usage: { input: 900, output: 15, cacheRead: 0 } });

  const tmux = await startTmux(
    `'${Deno.execPath()}' run -A --quiet '${MAIN}' launch ${t.project} -- --model ${MODEL} ` +
      `--permission-mode manual; echo "launch-exit=$?"; sleep 60`,
    { env: { ...t.env, TERM: "xterm-256color" }, cwd: t.dir, cols: 140, rows: 45 },
  );
  try {
    const runner = await activeRunner(t.client, t.project);
    assertEquals(runner.telemetry, "stratavore");
    await tmux.waitFor(/manual mode on/, 60_000);

    // A prompt: busy, then idle when the turn ends.
    await prompt(tmux, `${first} say hello`);
    await tmux.waitFor(/Hello from the stand-in\./, 30_000);
    await activityBecomes(t.client, runner.id, "idle");
    const firstSession = (await t.client.getRunner(runner.id)).sessionId!;

    // A tool call opens the real permission dialog: waiting for input; approving runs the tool.
    await prompt(tmux, `${tool} run a command`);
    await tmux.waitFor(/Do you want to proceed\?/, 30_000);
    const waiting = await activityBecomes(t.client, runner.id, "waiting_for_input", 30_000);
    assertEquals(waiting.activityDetail, "permission_prompt");
    await tmux.send("1");
    await tmux.waitFor(/The command printed the word\./, 30_000);
    await activityBecomes(t.client, runner.id, "idle");

    // /clear starts a new session in the same process: the runner follows it.
    await prompt(tmux, "/clear");
    const cleared = await eventually(async () => {
      const r = await t.client.getRunner(runner.id);
      return r.sessionId && r.sessionId !== firstSession ? r : undefined;
    }, 20_000, "the runner to follow the new session");
    await prompt(tmux, `${third} again`);
    await tmux.waitFor(/A fresh session\./, 30_000);
    await activityBecomes(t.client, runner.id, "idle");

    // /exit ends the runner stopped, with exit 0.
    await prompt(tmux, "/exit");
    const screen = await tmux.waitFor(/launch-exit=\d+/, 30_000);
    assertMatch(screen, /launch-exit=0/);
    const done = await eventually(async () => {
      const r = await t.client.getRunner(runner.id);
      return r.state !== "running" ? r : undefined;
    }, 20_000, "the runner to end");
    assertEquals([done.state, done.exitCode], ["stopped", 0]);

    // Tokens: per session, what ccusage counts on the same transcripts.
    const ccusage = await ccusageSessions(t.claudeDir);
    for (const id of [firstSession, cleared.sessionId!]) {
      const s = await t.client.getSession(id);
      assertEquals(s.tokens, ccusage.get(id), `session ${id}: tokens as ccusage counts them`);
    }
    // Cost: Claude Code's own, for everything it was billed (side requests included).
    const expected = billed(t.api);
    const final = await eventually(async () => {
      const r = await t.client.getRunner(runner.id);
      return Math.abs(r.cost.usd - expected) < 1e-6 ? r : undefined;
    }, 15_000, `the runner's cost to be $${expected}`);
    assertEquals(final.cost.source, "claude-code");
    const sessions = await t.client.listSessions({ project: t.project });
    const total = sessions.reduce((s, x) => s + x.costUsd, 0);
    assert(Math.abs(total - expected) < 1e-6, `sessions add up to ${total}, expected ${expected}`);
  } finally {
    await tmux.kill();
  }
});
