/**
 * Sending to the Bot API through grammy (the web build, which uses the global fetch). Every outcome is
 * folded into one of four kinds the sender acts on; error texts never carry the bot token (it is part of
 * every request URL, and network errors quote the URL).
 */
import type { Api } from "grammy/web";

type Grammy = typeof import("grammy/web");
let grammy: Grammy | undefined;

/**
 * grammy is loaded on the first message, not with the daemon: most daemons have no bot token, and the
 * library's modules cost ~4 MB of RSS at rest (bench/footprint.ts).
 */
export async function loadGrammy(): Promise<Grammy> {
  return grammy ??= await import("grammy/web");
}

export interface TelegramAnswer {
  /** What Telegram answered, as it answered it; absent when no answer arrived (network error, timeout). */
  ok?: boolean;
  description?: string;
  error_code?: number;
  parameters?: { retry_after?: number; migrate_to_chat_id?: number };
  message_id?: number;
}

export type SendOutcome =
  | { kind: "sent"; answer: TelegramAnswer }
  /** 429: wait retry_after seconds; not a failure of the message. */
  | { kind: "rate_limited"; retryAfterMs: number; error: string; answer: TelegramAnswer }
  /** 5xx, network error, timeout: retry with backoff. */
  | { kind: "transient"; error: string; answer?: TelegramAnswer }
  /** Other 4xx (bad token, unknown chat, bot blocked…): retrying would not help. */
  | { kind: "permanent"; error: string; answer: TelegramAnswer }
  | { kind: "aborted"; error: string };

export interface SendOptions {
  silent: boolean;
  signal?: AbortSignal;
  /** One row of inline buttons. */
  buttons?: { text: string; data: string }[];
}

/** A numeric chat id is sent as a number, a channel name (@name) as a string. */
export function chatIdValue(chatId: string): number | string {
  return /^-?\d+$/.test(chatId) ? Number(chatId) : chatId;
}

export class TelegramClient {
  readonly apiRoot: string;
  #token: string;
  #timeoutSeconds: number;
  #api?: Api;

  constructor(token: string, opts: { apiRoot?: string; timeoutSeconds?: number } = {}) {
    this.#token = token;
    this.apiRoot = (opts.apiRoot ?? "https://api.telegram.org").replace(/\/+$/, "");
    this.#timeoutSeconds = opts.timeoutSeconds ?? 15;
  }

  async #client(): Promise<Api> {
    const { Api } = await loadGrammy();
    return this.#api ??= new Api(this.#token, {
      apiRoot: this.apiRoot,
      timeoutSeconds: this.#timeoutSeconds,
    });
  }

  /** Removes the bot token from a text (error messages quote request URLs). */
  scrub(text: string): string {
    return text.replaceAll(this.#token, "[bot token]");
  }

  async send(chatId: string, text: string, opts: SendOptions): Promise<SendOutcome> {
    try {
      const api = await this.#client();
      const message = await api.sendMessage(chatIdValue(chatId), text, {
        parse_mode: "MarkdownV2",
        disable_notification: opts.silent,
        link_preview_options: { is_disabled: true },
        ...(opts.buttons?.length
          ? {
            reply_markup: {
              inline_keyboard: [opts.buttons.map((b) => ({ text: b.text, callback_data: b.data }))],
            },
          }
          : {}),
      }, opts.signal as Parameters<Api["sendMessage"]>[3]); // grammy types its own AbortSignal shim
      return { kind: "sent", answer: { ok: true, message_id: message.message_id } };
    } catch (e) {
      return this.#classify(e, opts.signal);
    }
  }

  #classify(e: unknown, signal?: AbortSignal): SendOutcome {
    if (signal?.aborted) return { kind: "aborted", error: "aborted: the daemon is stopping" };
    // Loaded by the attempt that failed (unless the import itself failed).
    const { GrammyError, HttpError } = grammy ?? {};
    if (GrammyError && e instanceof GrammyError) {
      const answer: TelegramAnswer = {
        ok: false,
        error_code: e.error_code,
        description: this.scrub(e.description),
        ...(e.parameters && Object.keys(e.parameters).length ? { parameters: e.parameters } : {}),
      };
      const error = `Telegram answered ${e.error_code}: ${answer.description}`;
      if (e.error_code === 429) {
        return { kind: "rate_limited", retryAfterMs: (e.parameters?.retry_after ?? 5) * 1000, error, answer };
      }
      if (e.error_code >= 500) return { kind: "transient", error, answer };
      return { kind: "permanent", error, answer };
    }
    if (HttpError && e instanceof HttpError) {
      const cause = e.error instanceof Error ? `: ${e.error.message}` : "";
      return { kind: "transient", error: this.scrub(`${e.message}${cause}`) };
    }
    return { kind: "transient", error: this.scrub(String((e as Error)?.message ?? e)) };
  }
}
