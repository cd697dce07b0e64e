/**
 * The bot's side of the chat, answered in the configured chat only, by long polling getUpdates with grammy:
 * the optional commands (`notifyBotCommands`: /status and /runners) and the Approve / Deny buttons under a
 * permission request (`telegramApprovals`). With several daemons on one database only the leader polls
 * (Telegram allows one getUpdates consumer per bot); the others check every few seconds and take over.
 */
import { Bot, GrammyError } from "grammy/web";
import type { Logger } from "../../lib/log.ts";
import { formatSpan } from "../../lib/format.ts";
import type { Runner } from "../../lib/schemas/runner.ts";
import type { Status } from "../../lib/schemas/status.ts";
import { escapeMarkdown, truncate } from "./markdown.ts";
import { PERMISSION_CALLBACK } from "./format.ts";
import type { Leadership } from "./leader.ts";
import { chatIdValue } from "./telegram.ts";

export interface BotCommandDeps {
  token: string;
  apiRoot?: string;
  chatId: string;
  log: Logger;
  leadership: Leadership;
  status: () => Promise<Status>;
  runners: () => Promise<Runner[]>;
  /** Answer /status and /runners. */
  commands: boolean;
  /** Answers a permission request from its button; returns what to tell the person who pressed it. */
  approve?: (requestId: number, decision: "allow" | "deny", by: string) => Promise<string>;
  /** How often a follower checks whether it may lead (and the leader that it still does). */
  checkMs?: number;
}

/** A span up to now, as the CLI and the web write it (lib/format.ts). */
function ago(iso: string | null): string {
  return iso ? formatSpan(Date.now() - Date.parse(iso)) : "-";
}

export function statusText(s: Status): string {
  const r = s.runners;
  return [
    `stratavore ${s.version} on ${s.daemonId}, up ${ago(s.startedAt)}`,
    `runners: ${r.running ?? 0} running, ${r.starting ?? 0} starting, ${r.stopping ?? 0} stopping`,
    `ended: ${r.stopped ?? 0} stopped, ${r.failed ?? 0} failed, ${r.killed ?? 0} killed`,
    `projects: ${s.projects}`,
  ].join("\n");
}

export function runnersText(runners: Runner[]): string {
  if (runners.length === 0) return "no active runners";
  const shown = runners.slice(0, 30).map((r) =>
    `${r.id} ${r.project} ${r.state}${r.activity ? ` (${r.activity.replaceAll("_", " ")})` : ""}, up ${
      ago(r.startedAt ?? r.createdAt)
    }, heartbeat ${ago(r.lastHeartbeatAt)} ago`
  );
  const more = runners.length > shown.length ? `\n… and ${runners.length - shown.length} more` : "";
  return `${runners.length} active runner${runners.length === 1 ? "" : "s"}:\n${shown.join("\n")}${more}`;
}

export interface BotCommands {
  stop(): Promise<void>;
}

export function startBotCommands(d: BotCommandDeps): BotCommands {
  const log = d.log.child({ component: "telegram-bot" });
  const bot = new Bot(d.token, { client: { apiRoot: d.apiRoot, timeoutSeconds: 60 } });
  const chat = chatIdValue(d.chatId);
  const ours = (c: { id: number; username?: string } | undefined) =>
    !!c && (typeof chat === "number" ? c.id === chat : `@${c.username}` === chat);
  const reply = (text: string) => ({
    text: escapeMarkdown(truncate(text, 3500)),
    other: { parse_mode: "MarkdownV2" as const, link_preview_options: { is_disabled: true } },
  });

  bot.use(async (ctx, next) => {
    if (ours(ctx.chat)) return await next();
    log.debug("ignored a message from another chat", { chat: ctx.chat?.id });
  });
  if (d.commands) {
    bot.command("status", async (ctx) => {
      const r = reply(statusText(await d.status()));
      await ctx.reply(r.text, r.other);
    });
    bot.command("runners", async (ctx) => {
      const r = reply(runnersText(await d.runners()));
      await ctx.reply(r.text, r.other);
    });
  }
  const approve = d.approve;
  if (approve) {
    bot.callbackQuery(PERMISSION_CALLBACK, async (ctx) => {
      const [, id, decision] = PERMISSION_CALLBACK.exec(ctx.callbackQuery.data ?? "")!;
      const from = ctx.callbackQuery.from;
      const by = `telegram:${from.username ? `@${from.username}` : from.id}`;
      const text = await approve(Number(id), decision as "allow" | "deny", by);
      await ctx.answerCallbackQuery({ text: truncate(text, 190) });
      // The buttons go: the request is answered (or cannot be any more).
      await ctx.editMessageReplyMarkup({ reply_markup: { inline_keyboard: [] } }).catch(() => {});
    });
  }
  bot.catch((err) => log.warn("a bot command failed", { error: err.error as Error }));

  let stopped = false;
  let polling: Promise<void> | undefined;
  let timer: ReturnType<typeof setTimeout> | undefined;
  const checkMs = d.checkMs ?? 5000;

  const tick = async () => {
    timer = undefined;
    if (stopped) return;
    let leader = false;
    try {
      leader = await d.leadership.check();
    } catch (e) {
      log.warn("cannot tell whether this daemon should answer bot commands", { error: (e as Error).message });
    }
    if (leader && !polling && !stopped) {
      log.info(
        d.commands
          ? `answering Telegram bot commands (/status, /runners)${d.approve ? " and approval buttons" : ""}`
          : "answering Telegram approval buttons",
      );
      polling = bot.start({ allowed_updates: ["message", "callback_query"], timeout: 25 })
        .catch((e) => {
          const conflict = e instanceof GrammyError && e.error_code === 409;
          log.warn(conflict ? "another process polls this bot; retrying later" : "bot polling stopped", {
            error: (e as Error).message,
          });
        })
        .finally(() => (polling = undefined));
    } else if (!leader && polling) {
      log.info("another daemon answers bot commands now");
      await bot.stop().catch(() => {});
    }
    if (!stopped) timer = setTimeout(tick, checkMs);
  };
  timer = setTimeout(tick, 0);

  return {
    async stop() {
      stopped = true;
      if (timer !== undefined) clearTimeout(timer);
      // bot.stop() confirms the last update with one more request: bounded, Telegram may be down.
      const bounded = (p: Promise<unknown> | undefined) =>
        Promise.race([p?.catch(() => {}), new Promise((r) => setTimeout(r, 2000))]);
      if (bot.isRunning()) await bounded(bot.stop());
      await bounded(polling);
      await d.leadership.close().catch(() => {});
    },
  };
}
