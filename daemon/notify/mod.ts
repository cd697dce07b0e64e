/**
 * Telegram notifications, wired to the daemon: events become queued rows in the relay's transaction
 * (onDelivered), a sender loop delivers them, and optional bot commands answer /status and /runners.
 * Without TELEGRAM_BOT_TOKEN and TELEGRAM_CHAT_ID nothing is queued and nothing runs.
 */
import type { Queryable } from "../../lib/db/types.ts";
import { type EventEnvelope, typeFilter } from "../../lib/schemas/event.ts";
import { readStatus } from "../routes/health.ts";
import type { Services } from "../services.ts";
import { listRunners } from "../store/runners.ts";
import type { BotCommands } from "./bot.ts";
import { describeEvent, rank, render } from "./format.ts";
import { advisoryLeadership, alwaysLeader, type Leadership } from "./leader.ts";
import { enqueue, type QueuedNotification } from "./queue.ts";
import { NotificationSender } from "./sender.ts";
import { TelegramClient } from "./telegram.ts";
import { answerFromAnywhere } from "../approvals.ts";
import { getPermissionRequest } from "../store/permissions.ts";

export interface Notifier {
  readonly enabled: boolean;
  /** Queues the notifications these events call for, in the transaction that marks them published. */
  onDelivered(tx: Queryable, events: EventEnvelope[]): Promise<void>;
  /** The client of the configured bot (daemon/notify/routes.ts sends its test message). */
  readonly telegram: TelegramClient | undefined;
  start(): Promise<void>;
  /** Sends what is due for up to flushMs, then stops; the rest waits in the table for the next start. */
  stop(flushMs: number): Promise<void>;
}

export function createNotifier(s: Services): Notifier {
  const { telegramBotToken: token, telegramChatId: chatId, telegramApiRoot: apiRoot } = s.config;
  const telegram = token ? new TelegramClient(token, { apiRoot }) : undefined;
  const enabled = !!(telegram && chatId);
  const wanted = typeFilter(s.config.notifyEvents);
  const min = rank(s.config.notifyMinPriority);
  const log = s.log.child({ component: "notify" });
  let sender: NotificationSender | undefined;
  let bot: BotCommands | undefined;

  return {
    enabled,
    async onDelivered(tx, events) {
      if (!enabled) return;
      const rows: QueuedNotification[] = [];
      for (const ev of events) {
        if (!wanted(ev.type)) continue;
        const notice = describeEvent(ev);
        if (!notice || rank(notice.priority) < min) continue;
        rows.push({
          eventId: ev.id,
          chatId: chatId!,
          priority: notice.priority,
          text: render(notice),
          buttons: notice.buttons,
        });
      }
      await enqueue(tx, rows);
    },
    telegram,
    async start() {
      if (!enabled) {
        if (token || chatId) {
          log.warn(
            `Telegram notifications are off: set ${token ? "TELEGRAM_CHAT_ID" : "TELEGRAM_BOT_TOKEN"} too`,
          );
        }
        return;
      }
      sender = new NotificationSender(s.db, {
        chatId: chatId!,
        telegram: telegram!,
        log,
        retryBaseMs: s.config.notifyRetryDelay,
        maxAttempts: s.config.notifyMaxAttempts,
        minGapMs: s.config.notifyMinGap,
      });
      await sender.start();
      log.info("Telegram notifications on", {
        chat: chatId,
        minPriority: s.config.notifyMinPriority,
        events: s.config.notifyEvents,
      });
      if (s.config.notifyBotCommands || s.config.telegramApprovals) {
        // Imported here: grammy loads only in a daemon that talks to Telegram (telegram.ts).
        const { startBotCommands } = await import("./bot.ts");
        bot = startBotCommands({
          token: token!,
          apiRoot,
          chatId: chatId!,
          log,
          leadership: await leadership(s),
          checkMs: s.config.notifyBotCheck,
          status: () => readStatus(s),
          runners: () => listRunners(s.db, {}),
          commands: s.config.notifyBotCommands,
          approve: s.config.telegramApprovals
            ? (id, decision, by) => approveFromTelegram(s, id, decision, by)
            : undefined,
        });
      }
    },
    async stop(flushMs) {
      await bot?.stop();
      await sender?.stop(flushMs);
    },
  };
}

/** A button pressed in the configured chat: the request is answered as from any other channel (audited). */
async function approveFromTelegram(
  s: Services,
  requestId: number,
  decision: "allow" | "deny",
  by: string,
): Promise<string> {
  const request = await getPermissionRequest(s.db, requestId);
  if (!request) return "That request is gone.";
  try {
    const r = await answerFromAnywhere(s.db, request.runnerId, { decision, requestId }, {
      by,
      channel: "telegram",
    }, null);
    return `${r.status === "allowed" ? "Allowed" : "Denied"}: ${r.summary}`;
  } catch (e) {
    return (e as Error).message;
  }
}

async function leadership(s: Services): Promise<Leadership> {
  if (!s.config.databaseUrl) return alwaysLeader();
  const { openPostgres } = await import("../../lib/db/postgres.ts");
  return advisoryLeadership(
    openPostgres(s.config.databaseUrl, { max: 1, applicationName: "stratavore-bot-leader" }),
  );
}
