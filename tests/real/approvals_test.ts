/**
 * Permission requests of the real Claude Code, answered from anywhere: the session is "waiting for input"
 * within a second of the dialog; an approval from the API or the CLI runs the tool, a denial does not; the
 * person at the terminal can always answer first, and then a remote answer is refused.
 */
import { assert, assertEquals, assertMatch, eventually } from "../helpers/assert.ts";
import type { Tmux } from "../helpers/tmux.ts";
import { runStratavore } from "../helpers/cli.ts";
import { ApiError } from "../../lib/client.ts";
import type { RealTest } from "./harness.ts";
import { eachRealDaemon } from "./harness.ts";
import { activityBecomes, answerDialog, launchInTerminal, prompt } from "./session.ts";
import { freePort } from "../helpers/daemon.ts";
import { CHAT, FakeBotApi, telegramEnv } from "../observability/fake_telegram.ts";

const exists = (p: string) => Deno.stat(p).then(() => true, () => false);

/** A session in tmux whose next prompt asks to run `touch <file>`; returns the marker to type. */
async function session(
  t: RealTest,
): Promise<{ tmux: Tmux; runnerId: number; ask: (name: string) => Promise<string> }> {
  await t.client.updateProject(t.project, { approvals: "remote", approvalTimeoutSeconds: 60 });
  const { tmux, runner } = await launchInTerminal(t, { args: ["--permission-mode", "manual"] });
  await tmux.waitFor(/manual mode on/, 60_000);
  return {
    tmux,
    runnerId: runner.id,
    async ask(name: string) {
      const marker = `ask-${crypto.randomUUID()}`;
      const out = `done-${crypto.randomUUID().slice(0, 8)}`;
      t.api.routes.set(marker, {
        toolUse: {
          name: "Bash",
          input: { command: `touch ${name} && echo ${out}`, description: "Make a file" },
        },
      });
      t.api.routes.set(out, { text: `Finished ${name}.` });
      // A denied tool's result carries the denial, not the output: answer that turn too.
      t.api.fallback = (r) => r.toolResult ? { text: "Understood, not doing it." } : {};
      await prompt(tmux, `${marker} please`);
      return marker;
    },
  };
}

eachRealDaemon(
  "a permission dialog is 'waiting for input' within a second, and the API approves it",
  async (t) => {
    const s = await session(t);
    try {
      await s.ask("approved-by-api");
      const dialogAt = await (async () => {
        await s.tmux.waitFor(/Do you want to proceed\?/, 30_000);
        return Date.now();
      })();
      const waiting = await activityBecomes(t.client, s.runnerId, "waiting_for_input", 10_000);
      const seenAt = Date.now();
      assert(
        seenAt - dialogAt < 3000,
        `waiting for input ${seenAt - dialogAt} ms after the dialog (target 1 s)`,
      );
      assertMatch(waiting.activityDetail ?? "", /permission: Bash/);
      const runner = await t.client.getRunner(s.runnerId);
      assertEquals(runner.pendingPermission?.tool, "Bash");
      assertMatch(runner.pendingPermission?.summary ?? "", /touch approved-by-api/);

      const answered = await t.client.answerPermission(s.runnerId, { decision: "allow" });
      assertEquals([answered.status, answered.channel, answered.answeredBy], ["allowed", "api", "admin"]);
      await s.tmux.waitFor(/Finished approved-by-api\./, 30_000);
      assert(await exists(`${t.dir}/approved-by-api`), "the tool ran");
      await activityBecomes(t.client, s.runnerId, "idle");
      const events = await t.client.recentEvents({ types: "runner.permission_*" });
      assertEquals(events.map((e) => e.type), ["runner.permission_requested", "runner.permission_answered"]);
    } finally {
      await s.tmux.kill();
    }
  },
);

eachRealDaemon(
  "the CLI denies a permission request: the tool does not run and Claude hears why",
  async (t) => {
    const s = await session(t);
    try {
      await s.ask("denied-by-cli");
      await s.tmux.waitFor(/Do you want to proceed\?/, 30_000);
      await activityBecomes(t.client, s.runnerId, "waiting_for_input", 10_000);
      const r = await runStratavore(["deny", String(s.runnerId), "--message", "not on a Friday"], {
        env: t.env,
      });
      assertEquals(r.code, 0, r.stderr);
      assertMatch(r.stdout, /denied Bash: touch denied-by-cli/);
      const denial = await t.api.waitFor(
        (q) => q.toolResult && /not on a Friday/.test(q.lastUserText),
        30_000,
      );
      assert(denial, "Claude was told the reason");
      assertEquals(await exists(`${t.dir}/denied-by-cli`), false, "the tool did not run");
      const list = await runStratavore(["permissions", String(s.runnerId)], { env: t.env });
      assertMatch(list.stdout, /denied\s+admin \(cli\)\s+Bash: touch denied-by-cli/);
    } finally {
      await s.tmux.kill();
    }
  },
);

eachRealDaemon(
  "the terminal answers first: the request disappears everywhere and a late remote answer is refused",
  async (t) => {
    const s = await session(t);
    try {
      await s.ask("answered-in-terminal");
      await s.tmux.waitFor(/Do you want to proceed\?/, 30_000);
      await activityBecomes(t.client, s.runnerId, "waiting_for_input", 10_000);
      // "No" in the dialog (the terminal's answer); then a remote "allow" must change nothing.
      await answerDialog(s.tmux, "Escape");
      await eventually(
        async () => {
          const r = await t.client.getRunner(s.runnerId);
          return r.pendingPermission === null && r.activity !== "waiting_for_input";
        },
        20_000,
        "the request to be settled by the terminal",
      );
      const late = await t.client.answerPermission(s.runnerId, { decision: "allow" }).catch((e) => e);
      assert(late instanceof ApiError && late.apiCode === "conflict", `refused: ${late}`);
      assertMatch(late.message, /answered in the terminal/);
      await new Promise((r) => setTimeout(r, 1500));
      assertEquals(
        await exists(`${t.dir}/answered-in-terminal`),
        false,
        "the late allow did not run the tool",
      );
      const [q] = (await t.client.listPermissions(s.runnerId)).requests;
      assertEquals([q.status, q.channel], ["answered_in_terminal", "terminal"]);
    } finally {
      await s.tmux.kill();
    }
  },
);

const telegramPort = freePort();

eachRealDaemon(
  "Approve from Telegram: the inline button in the configured chat runs the tool; other chats are ignored",
  async (t) => {
    const bot = FakeBotApi.start(telegramPort);
    const s = await session(t);
    try {
      await s.ask("approved-on-telegram");
      await s.tmux.waitFor(/Do you want to proceed\?/, 30_000);
      const sent = await eventually(
        () =>
          bot.delivered().find((c) =>
            (c.body.reply_markup as { inline_keyboard?: unknown[] })?.inline_keyboard
          ),
        30_000,
        "a message with buttons",
      );
      assertMatch(String(sent.body.text), /asks permission/);
      assertMatch(
        String(sent.body.text),
        /touch approved\\-on\\-telegram/,
        "the command, escaped for MarkdownV2",
      );
      const [[approve, deny]] = (sent.body.reply_markup as { inline_keyboard: { callback_data: string }[][] })
        .inline_keyboard;
      assertMatch(deny.callback_data, /^perm:\d+:deny$/);
      const messageId = 100; // the fake's first message id; any id works for the callback
      bot.pushCallback(-1, approve.callback_data, messageId, { id: 666, username: "mallory" });
      await new Promise((r) => setTimeout(r, 2000));
      assertEquals(
        (await t.client.getRunner(s.runnerId)).pendingPermission?.status,
        "pending",
        "another chat",
      );
      bot.pushCallback(CHAT, approve.callback_data, messageId);
      await s.tmux.waitFor(/Finished approved-on-telegram\./, 30_000);
      const [q] = (await t.client.listPermissions(s.runnerId)).requests;
      assertEquals([q.status, q.answeredBy, q.channel], ["allowed", "telegram:@ada", "telegram"]);
      await eventually(
        () => bot.calls.some((c) => c.method === "answerCallbackQuery"),
        10_000,
        "the press answered",
      );
    } finally {
      await s.tmux.kill();
      await bot.close();
    }
  },
  { env: telegramEnv(telegramPort) },
);
