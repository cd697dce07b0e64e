/**
 * A Bot API server on a loopback port, for grammy to talk to (its apiRoot = this server's URL). It records
 * every call, answers sendMessage from a script (429 with retry_after, 5xx, delays), and feeds getUpdates
 * from a queue, refusing a second concurrent getUpdates with 409 as Telegram does.
 */

export interface Call {
  method: string;
  token: string;
  body: Record<string, unknown>;
  at: number;
  /** sendMessage only: answered ok (not by a scripted error). */
  delivered?: boolean;
}

/** A scripted answer: a Bot API JSON body (with the HTTP status Telegram would use), or a delay first. */
export interface Reply {
  status?: number;
  body?: Record<string, unknown>;
  delayMs?: number;
  /** Only for a sendMessage whose text matches (others pass it by), e.g. the test message alone. */
  forText?: RegExp;
}

export interface Update {
  update_id: number;
  message?: Record<string, unknown>;
  callback_query?: Record<string, unknown>;
}

export class FakeBotApi {
  readonly calls: Call[] = [];
  /** sendMessage answers, consumed in order; when empty, sendMessage succeeds. */
  readonly script: Reply[] = [];
  /** Every sendMessage waits this long first (a slow Telegram). */
  delayMs = 0;
  /** getUpdates answered with 409 because another was pending. */
  conflicts = 0;
  #server: Deno.HttpServer<Deno.NetAddr>;
  #updates: Update[] = [];
  #nextUpdate = 1;
  #nextMessage = 100;
  #polls = 0;
  /** Pending long polls (ended by pushMessage or close) and delays (ended by close). */
  #wake: (() => void)[] = [];
  #delays: (() => void)[] = [];
  #closed = false;

  private constructor(port: number) {
    this.#server = Deno.serve(
      { hostname: "127.0.0.1", port, onListen: () => {} },
      (req) => this.#handle(req),
    );
  }

  static start(port = 0): FakeBotApi {
    return new FakeBotApi(port);
  }

  get url(): string {
    return `http://127.0.0.1:${this.#server.addr.port}`;
  }

  get port(): number {
    return this.#server.addr.port;
  }

  /** The sendMessage calls that Telegram accepted (answered ok), in order. */
  delivered(): Call[] {
    return this.calls.filter((c) => c.method === "sendMessage" && c.delivered);
  }

  sends(): Call[] {
    return this.calls.filter((c) => c.method === "sendMessage");
  }

  /** A text message from a chat, as getUpdates will hand it out. */
  pushMessage(chatId: number, text: string): void {
    const command = /^\/\w+/.exec(text)?.[0];
    this.#updates.push({
      update_id: this.#nextUpdate++,
      message: {
        message_id: this.#nextMessage++,
        date: Math.floor(Date.now() / 1000),
        chat: { id: chatId, type: "private", first_name: "Tester" },
        from: { id: chatId, is_bot: false, first_name: "Tester" },
        text,
        ...(command ? { entities: [{ type: "bot_command", offset: 0, length: command.length }] } : {}),
      },
    });
    for (const w of this.#wake.splice(0)) w();
  }

  /** A press on an inline button under message `messageId` of a chat, by a user. */
  pushCallback(chatId: number, data: string, messageId: number, from = { id: 555, username: "ada" }): void {
    this.#updates.push({
      update_id: this.#nextUpdate++,
      callback_query: {
        id: String(this.#nextUpdate * 1000),
        chat_instance: "1",
        data,
        from: { ...from, is_bot: false, first_name: "Ada" },
        message: {
          message_id: messageId,
          date: Math.floor(Date.now() / 1000),
          chat: { id: chatId, type: "private", first_name: "Tester" },
          text: "(a notification)",
        },
      },
    });
    for (const w of this.#wake.splice(0)) w();
  }

  async #handle(req: Request): Promise<Response> {
    const m = /^\/bot([^/]+)\/(\w+)$/.exec(new URL(req.url).pathname);
    if (!m) return json(404, { ok: false, error_code: 404, description: "Not Found" });
    const text = await req.text();
    const body = text ? JSON.parse(text) : {};
    const call: Call = { method: m[2], token: m[1], body, at: Date.now() };
    this.calls.push(call);
    switch (call.method) {
      case "getMe":
        return ok({
          id: 4242,
          is_bot: true,
          first_name: "Stratavore Test",
          username: "stratavore_test_bot",
          can_join_groups: true,
          can_read_all_group_messages: false,
          supports_inline_queries: false,
        });
      case "deleteWebhook":
      case "answerCallbackQuery":
      case "editMessageReplyMarkup":
        return ok(true);
      case "getUpdates":
        return await this.#getUpdates(req, body);
      case "sendMessage": {
        const at = this.script.findIndex((r) => !r.forText || r.forText.test(String(body.text ?? "")));
        const reply = at < 0 ? undefined : this.script.splice(at, 1)[0];
        const delay = reply?.delayMs ?? this.delayMs;
        if (delay) await this.#sleep(delay, req.signal);
        if (req.signal.aborted) {
          return json(499, { ok: false, error_code: 499, description: "client went away" });
        }
        if (reply?.body) return json(reply.status ?? 200, reply.body);
        call.delivered = true;
        return ok({
          message_id: this.#nextMessage++,
          date: Math.floor(Date.now() / 1000),
          chat: { id: body.chat_id, type: "private" },
          text: body.text,
        });
      }
      default:
        return json(404, { ok: false, error_code: 404, description: "Not Found: method not found" });
    }
  }

  async #getUpdates(req: Request, body: { offset?: number; timeout?: number }): Promise<Response> {
    if (this.#polls > 0 && body.timeout) {
      this.conflicts++;
      return json(409, {
        ok: false,
        error_code: 409,
        description:
          "Conflict: terminated by other getUpdates request; make sure that only one bot instance is running",
      });
    }
    const offset = body.offset ?? 0;
    this.#updates = this.#updates.filter((u) => u.update_id >= offset);
    if (this.#updates.length === 0 && body.timeout) {
      this.#polls++;
      try {
        await new Promise<void>((resolve) => {
          const t = setTimeout(done, 1000);
          function done() {
            clearTimeout(t);
            resolve();
          }
          this.#wake.push(done);
          req.signal.addEventListener("abort", done, { once: true });
        });
      } finally {
        this.#polls--;
      }
    }
    return ok(this.#updates.slice(0, 100));
  }

  /** A delay that ends early when the client goes away or the server closes. */
  #sleep(ms: number, signal: AbortSignal): Promise<void> {
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(t);
        this.#delays = this.#delays.filter((w) => w !== done);
        resolve();
      };
      const t = setTimeout(done, ms);
      this.#delays.push(done);
      signal.addEventListener("abort", done, { once: true });
    });
  }

  async close(): Promise<void> {
    this.#closed = true;
    for (const w of [...this.#wake.splice(0), ...this.#delays]) w();
    await this.#server.shutdown();
  }
}

function json(status: number, body: unknown): Response {
  return new Response(JSON.stringify(body), { status, headers: { "content-type": "application/json" } });
}

function ok(result: unknown): Response {
  return json(200, { ok: true, result });
}

export const rateLimited = (retryAfter: number): Reply => ({
  status: 429,
  body: {
    ok: false,
    error_code: 429,
    description: `Too Many Requests: retry after ${retryAfter}`,
    parameters: { retry_after: retryAfter },
  },
});

export const serverError = (code = 502): Reply => ({
  status: code,
  body: { ok: false, error_code: code, description: "Bad Gateway" },
});

export const BOT_TOKEN = "987654:FAKE-bot_token-for-tests";
export const CHAT = -1009876543210;

/** Daemon settings for a fake Bot API on `port` (started by the test itself). */
export function telegramEnv(port: number, extra: Record<string, string> = {}): Record<string, string> {
  return {
    TELEGRAM_BOT_TOKEN: BOT_TOKEN,
    TELEGRAM_CHAT_ID: String(CHAT),
    TELEGRAM_API_ROOT: `http://127.0.0.1:${port}`,
    STRATAVORE_NOTIFY_RETRY_DELAY: "100ms",
    // A tenth of the daemon's one message a second: tests about what is sent need not wait out Telegram's limit.
    STRATAVORE_NOTIFY_MIN_GAP: "100ms",
    STRATAVORE_HEARTBEAT_TTL: "10m",
    ...extra,
  };
}
