/**
 * The real Claude Code launched interactively in a terminal (tmux) through `stratavore launch`: prompt →
 * busy → idle; a tool call → permission dialog → waiting for input → approved → idle; `/clear` followed to
 * the new session; `/exit` → stopped, exit 0. Tokens equal ccusage's on the transcripts, and the cost equals
 * Claude Code's own for what the stand-in billed.
 */
import { assert, assertEquals, assertMatch, eventually } from "../helpers/assert.ts";
import { ccusageSessions } from "./claude_code.ts";
import { eachRealDaemon } from "./harness.ts";
import { activityBecomes, answerDialog, billed, launchInTerminal, prompt } from "./session.ts";

eachRealDaemon(
  "interactive launch: states, a permission dialog, /clear and /exit; tokens and cost exact",
  async (t) => {
    const first = `first-${crypto.randomUUID()}`;
    const tool = `tool-${crypto.randomUUID()}`;
    const toolOutput = `ran-${crypto.randomUUID().slice(0, 8)}`;
    const third = `third-${crypto.randomUUID()}`;
    t.api.routes.set(first, { text: "Hello from the stand-in.", usage: { input: 1500, output: 120 } });
    t.api.routes.set(tool, {
      toolUse: {
        name: "Bash",
        input: { command: `touch made-${toolOutput} && echo ${toolOutput}`, description: "Make a file" },
      },
      usage: { input: 1800, output: 60 },
    });
    t.api.routes.set(toolOutput, {
      text: "The command printed the word.",
      usage: { input: 2100, output: 30 },
    });
    t.api.routes.set(third, { text: "A fresh session.", usage: { input: 900, output: 15, cacheRead: 0 } });

    const { tmux, runner } = await launchInTerminal(t, { args: ["--permission-mode", "manual"] });
    try {
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
      assertEquals(
        waiting.activityDetail,
        "permission: Bash",
        "the PermissionRequest hook, as the dialog opens",
      );
      await answerDialog(tmux, "1");
      await tmux.waitFor(/The command printed the word\./, 30_000);
      await activityBecomes(t.client, runner.id, "idle");

      // /clear starts a new session in the same process: the runner follows it.
      await prompt(tmux, "/clear");
      const cleared = await eventually(
        async () => {
          const r = await t.client.getRunner(runner.id);
          return r.sessionId && r.sessionId !== firstSession ? r : undefined;
        },
        20_000,
        "the runner to follow the new session",
      );
      await prompt(tmux, `${third} again`);
      await tmux.waitFor(/A fresh session\./, 30_000);
      await activityBecomes(t.client, runner.id, "idle");

      // /exit ends the runner stopped, with exit 0.
      await prompt(tmux, "/exit");
      const screen = await tmux.waitFor(/launch-exit=\d+/, 30_000);
      assertMatch(screen, /launch-exit=0/);
      const done = await eventually(
        async () => {
          const r = await t.client.getRunner(runner.id);
          return r.state !== "running" ? r : undefined;
        },
        20_000,
        "the runner to end",
      );
      assertEquals([done.state, done.exitCode], ["stopped", 0]);

      // Tokens: per session, what ccusage counts on the same transcripts.
      const ccusage = await ccusageSessions(t.claudeDir);
      for (const id of [firstSession, cleared.sessionId!]) {
        const s = await t.client.getSession(id);
        assertEquals(s.tokens, ccusage.get(id), `session ${id}: tokens as ccusage counts them`);
      }
      // Cost: Claude Code's own, for everything it was billed (side requests included).
      const expected = billed(t.api);
      const final = await eventually(
        async () => {
          const r = await t.client.getRunner(runner.id);
          return Math.abs(r.cost.usd - expected) < 1e-6 ? r : undefined;
        },
        15_000,
        `the runner's cost to be $${expected}`,
      );
      assertEquals(final.cost.source, "claude-code");
      const sessions = await t.client.listSessions({ project: t.project });
      const total = sessions.reduce((s, x) => s + x.costUsd, 0);
      assert(Math.abs(total - expected) < 1e-6, `sessions add up to ${total}, expected ${expected}`);
    } finally {
      await tmux.kill();
    }
  },
);
