/** `POST /api/v1/notify/test`: what the daemon's test message to Telegram came back with. */
import { z } from "zod";

/** Telegram's answer, field for field (snake_case as Telegram writes it). */
export const telegramAnswer = z.object({
  ok: z.boolean().optional(),
  description: z.string().optional(),
  error_code: z.number().optional(),
  parameters: z.record(z.string(), z.unknown()).optional(),
  message_id: z.number().optional(),
});
export type TelegramAnswer = z.infer<typeof telegramAnswer>;

export const notifyTestResponse = z.object({
  /** Both the bot token and the chat id are set on the daemon. */
  configured: z.boolean(),
  /** The settings still to set, as "ENV_NAME (configKey)". */
  missing: z.array(z.string()),
  chatId: z.string().nullable(),
  apiRoot: z.string().nullable(),
  sent: z.boolean(),
  /** Telegram's answer; null when none arrived (network error, timeout) or nothing was sent. */
  telegram: telegramAnswer.nullable(),
  /** Why nothing arrived (network error, timeout), with the bot token removed. */
  error: z.string().nullable(),
});
export type NotifyTestResponse = z.infer<typeof notifyTestResponse>;
