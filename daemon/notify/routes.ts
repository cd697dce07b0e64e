/** /api/v1/notify: send a test message now and report exactly what Telegram answered. */
import type { NotifyTestResponse } from "../../lib/schemas/notify.ts";
import { type Route, Routes } from "../http/route.ts";
import type { Services } from "../services.ts";
import { escapeMarkdown } from "./markdown.ts";
import type { TelegramClient } from "./telegram.ts";

export function notifyRoutes(s: Services, telegram: TelegramClient | undefined): Route[] {
  const app = new Routes("/notify");
  app.post("/test", { auth: "admin-only" }, async (c) => {
    const { telegramBotToken: token, telegramChatId: chatId } = s.config;
    const missing = [
      ...(token ? [] : ["TELEGRAM_BOT_TOKEN (telegramBotToken)"]),
      ...(chatId ? [] : ["TELEGRAM_CHAT_ID (telegramChatId)"]),
    ];
    const base = { missing, chatId: chatId ?? null, apiRoot: telegram?.apiRoot ?? null };
    if (!telegram || !chatId) {
      return c.json<NotifyTestResponse>({
        ...base,
        configured: false,
        sent: false,
        telegram: null,
        error: null,
      });
    }
    const text = `✅ ${escapeMarkdown(`stratavore test message from daemon ${s.daemonId} (${s.url})`)}`;
    const out = await telegram.send(chatId, text, { silent: false }); // grammy times out after 15 s
    s.log.info("sent a Telegram test message", { outcome: out.kind });
    return c.json<NotifyTestResponse>({
      ...base,
      configured: true,
      sent: out.kind === "sent",
      telegram: "answer" in out && out.answer ? out.answer : null,
      error: out.kind === "sent" || ("answer" in out && out.answer) ? null : out.error,
    });
  });
  return app.list;
}
