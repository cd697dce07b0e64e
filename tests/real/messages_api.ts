/**
 * A stand-in of Anthropic's Messages API for the real Claude Code, offline: `POST /v1/messages` streamed as
 * the real API streams it (message_start … message_stop with usage, the cache_creation 5m/1h breakdown,
 * globally unique message and request ids), a `tool_use` when a test asks for one, 429/529 errors and the
 * subscriber rate-limit headers on demand. Every request is recorded for the test to inspect.
 */
import { Arrivals } from "../helpers/arrivals.ts";

export interface Usage {
  input: number;
  output: number;
  cacheRead: number;
  cacheWrite5m: number;
  cacheWrite1h: number;
}

/** The subscriber windows Claude Code reads from `anthropic-ratelimit-unified-*` headers. */
export interface RateLimitWindows {
  status?: "allowed" | "allowed_warning" | "rejected";
  representativeClaim?: "five_hour" | "seven_day";
  fiveHour?: { utilization: number; resetsAt: number; status?: string };
  sevenDay?: { utilization: number; resetsAt: number; status?: string };
}

export interface Reply {
  /** Text of the answer (default "OK."). Ignored when toolUse is set, unless both are wanted. */
  text?: string;
  /** A tool call, e.g. { name: "Bash", input: { command: "echo hi", description: "say hi" } }. */
  toolUse?: { name: string; input: Record<string, unknown> };
  usage?: Partial<Usage>;
  /** Answer with an HTTP error instead (429 rate limited, 529 overloaded, …). */
  status?: number;
  errorType?: string;
  errorMessage?: string;
  /** Extra response headers (rate limits are better given through `rateLimits`). */
  headers?: Record<string, string>;
  /** Holds the response this long before the first byte (a slow model). */
  delayMs?: number;
}

export interface RecordedRequest {
  at: number;
  path: string;
  model: string;
  stream: boolean;
  /** The text of the last user message (tool results included as their text). */
  lastUserText: string;
  /** True when the last user message carries a tool_result. */
  toolResult: boolean;
  body: Record<string, unknown>;
  headers: Record<string, string>;
  messageId?: string;
  requestId?: string;
  status: number;
  /** What the stand-in billed for an answered request (so tests can price it). */
  usage?: Usage;
}

export interface MessagesApiOptions {
  /** Usage sent when a reply does not give its own. */
  defaultUsage?: Partial<Usage>;
  /** Sent as `anthropic-ratelimit-unified-*` headers on every successful answer while set. */
  rateLimits?: RateLimitWindows;
}

const DEFAULT_USAGE: Usage = {
  input: 1200,
  output: 40,
  cacheRead: 3000,
  cacheWrite5m: 400,
  cacheWrite1h: 100,
};

function sse(event: string, data: unknown): string {
  return `event: ${event}\ndata: ${JSON.stringify(data)}\n\n`;
}

function textOf(content: unknown): string {
  if (typeof content === "string") return content;
  if (!Array.isArray(content)) return "";
  return content.map((b) => {
    const block = b as Record<string, unknown>;
    if (block.type === "text") return String(block.text ?? "");
    if (block.type === "tool_result") return textOf(block.content);
    return "";
  }).join("\n");
}

export function rateLimitHeaders(w: RateLimitWindows): Record<string, string> {
  const h: Record<string, string> = {
    "anthropic-ratelimit-unified-status": w.status ?? "allowed",
  };
  if (w.representativeClaim) h["anthropic-ratelimit-unified-representative-claim"] = w.representativeClaim;
  const win = (name: "5h" | "7d", v?: { utilization: number; resetsAt: number; status?: string }) => {
    if (!v) return;
    h[`anthropic-ratelimit-unified-${name}-utilization`] = String(v.utilization);
    h[`anthropic-ratelimit-unified-${name}-reset`] = String(v.resetsAt);
    h[`anthropic-ratelimit-unified-${name}-status`] = v.status ?? "allowed";
  };
  win("5h", w.fiveHour);
  win("7d", w.sevenDay);
  const resets = [w.fiveHour?.resetsAt, w.sevenDay?.resetsAt].filter((x) => x !== undefined);
  if (resets.length) h["anthropic-ratelimit-unified-reset"] = String(Math.min(...(resets as number[])));
  return h;
}

export class MessagesApi {
  readonly #arrivals = new Arrivals<RecordedRequest>();
  /** Every request seen, in order (a test may empty it). */
  readonly requests = this.#arrivals.items;
  /** Replies taken in order by the conversation's requests; when empty, `fallback` answers. */
  readonly queue: Reply[] = [];
  /**
   * Replies chosen by a marker in the last user message (checked before the queue), so tests running
   * several clients against one stand-in get their own answers. A marker answers every request whose
   * last user message carries it (a tool result's follow-up carries the tool's output, not the marker).
   */
  readonly routes = new Map<string, Reply>();
  /** Decides the reply for a request the queue does not cover (default: plain text). */
  fallback: (req: RecordedRequest) => Reply = () => ({});
  defaultUsage: Usage;
  rateLimits?: RateLimitWindows;
  #server?: Deno.HttpServer<Deno.NetAddr>;
  #url = "";

  constructor(opts: MessagesApiOptions = {}) {
    this.defaultUsage = { ...DEFAULT_USAGE, ...opts.defaultUsage };
    this.rateLimits = opts.rateLimits;
  }

  get url(): string {
    return this.#url;
  }

  start(): this {
    this.#server = Deno.serve(
      { hostname: "127.0.0.1", port: 0, onListen: () => {} },
      (req) => this.#handle(req),
    );
    this.#url = `http://127.0.0.1:${this.#server.addr.port}`;
    // A stand-in shared by a test file must not keep the test process alive after its last test.
    this.#server.unref();
    return this;
  }

  async close(): Promise<void> {
    await this.#server?.shutdown();
  }

  /** Queues replies for the next conversation requests (side requests such as titles use `fallback`). */
  reply(...replies: Reply[]): this {
    this.queue.push(...replies);
    return this;
  }

  /** Conversation requests: those that carry the tool list (side requests such as titles carry none). */
  conversation(): RecordedRequest[] {
    return this.requests.filter((r) => r.path === "/v1/messages" && r.status === 200);
  }

  /** Resolves with the first recorded request (past or future) matching pred. */
  waitFor(pred: (r: RecordedRequest) => boolean, timeoutMs = 30_000): Promise<RecordedRequest> {
    return this.#arrivals.waitFor(
      pred,
      timeoutMs,
      () => new Error(`the Messages API stand-in saw no matching request in ${timeoutMs} ms`),
    );
  }

  #record(r: RecordedRequest): void {
    this.#arrivals.push(r);
  }

  async #handle(req: Request): Promise<Response> {
    const url = new URL(req.url);
    const headers = Object.fromEntries(req.headers);
    let body: Record<string, unknown> = {};
    if (req.method === "POST") {
      try {
        body = await req.json();
      } catch { /* recorded as empty */ }
    }
    const messages = Array.isArray(body.messages) ? body.messages as Record<string, unknown>[] : [];
    const last = [...messages].reverse().find((m) => m.role === "user");
    const lastContent = last?.content;
    const rec: RecordedRequest = {
      at: Date.now(),
      path: url.pathname,
      model: String(body.model ?? ""),
      stream: body.stream === true,
      lastUserText: textOf(lastContent),
      toolResult: Array.isArray(lastContent) &&
        lastContent.some((b) => (b as Record<string, unknown>).type === "tool_result"),
      body,
      headers,
      status: 200,
    };
    if (url.pathname === "/v1/messages/count_tokens") {
      this.#record(rec);
      return Response.json({ input_tokens: 100 });
    }
    if (url.pathname !== "/v1/messages" || req.method !== "POST") {
      rec.status = 404;
      this.#record(rec);
      return Response.json({ type: "error", error: { type: "not_found_error", message: "not found" } }, {
        status: 404,
      });
    }
    const routed = [...this.routes].find(([marker]) => rec.lastUserText.includes(marker))?.[1];
    const reply = routed ?? this.queue.shift() ?? this.fallback(rec);
    if (reply.delayMs) await new Promise((r) => setTimeout(r, reply.delayMs));
    const requestId = `req_${crypto.randomUUID().replaceAll("-", "")}`;
    rec.requestId = requestId;
    const rl = this.rateLimits ? rateLimitHeaders(this.rateLimits) : {};
    if (reply.status && reply.status >= 400) {
      rec.status = reply.status;
      this.#record(rec);
      return Response.json(
        {
          type: "error",
          error: {
            type: reply.errorType ?? (reply.status === 429 ? "rate_limit_error" : "overloaded_error"),
            message: reply.errorMessage ?? (reply.status === 429 ? "Rate limited" : "Overloaded"),
          },
        },
        {
          status: reply.status,
          headers: { "request-id": requestId, ...rl, ...reply.headers, ...(reply.status === 429 ? {} : {}) },
        },
      );
    }
    const u = { ...this.defaultUsage, ...reply.usage };
    rec.usage = u;
    const messageId = `msg_${crypto.randomUUID().replaceAll("-", "")}`;
    rec.messageId = messageId;
    this.#record(rec);
    const usage = {
      input_tokens: u.input,
      output_tokens: 0,
      cache_creation_input_tokens: u.cacheWrite5m + u.cacheWrite1h,
      cache_read_input_tokens: u.cacheRead,
      cache_creation: {
        ephemeral_5m_input_tokens: u.cacheWrite5m,
        ephemeral_1h_input_tokens: u.cacheWrite1h,
      },
      service_tier: "standard",
    };
    const model = rec.model || "claude-sonnet-4-5";
    const blocks: string[] = [];
    let index = 0;
    const text = reply.text ?? (reply.toolUse ? undefined : "OK.");
    if (text !== undefined) {
      blocks.push(
        sse("content_block_start", {
          type: "content_block_start",
          index,
          content_block: { type: "text", text: "" },
        }),
        sse("content_block_delta", {
          type: "content_block_delta",
          index,
          delta: { type: "text_delta", text },
        }),
        sse("content_block_stop", { type: "content_block_stop", index }),
      );
      index++;
    }
    if (reply.toolUse) {
      const id = `toolu_${crypto.randomUUID().replaceAll("-", "").slice(0, 24)}`;
      blocks.push(
        sse("content_block_start", {
          type: "content_block_start",
          index,
          content_block: { type: "tool_use", id, name: reply.toolUse.name, input: {} },
        }),
        sse("content_block_delta", {
          type: "content_block_delta",
          index,
          delta: { type: "input_json_delta", partial_json: JSON.stringify(reply.toolUse.input) },
        }),
        sse("content_block_stop", { type: "content_block_stop", index }),
      );
    }
    const stopReason = reply.toolUse ? "tool_use" : "end_turn";
    const respHeaders = { "request-id": requestId, ...rl, ...reply.headers };
    if (!rec.stream) {
      return Response.json({
        id: messageId,
        type: "message",
        role: "assistant",
        model,
        content: [
          ...(text !== undefined ? [{ type: "text", text }] : []),
          ...(reply.toolUse ? [{ type: "tool_use", id: "toolu_1", ...reply.toolUse }] : []),
        ],
        stop_reason: stopReason,
        stop_sequence: null,
        usage: { ...usage, output_tokens: u.output },
      }, { headers: respHeaders });
    }
    const events = [
      sse("message_start", {
        type: "message_start",
        message: {
          id: messageId,
          type: "message",
          role: "assistant",
          model,
          content: [],
          stop_reason: null,
          stop_sequence: null,
          usage: { ...usage, output_tokens: 1 },
        },
      }),
      ...blocks,
      sse("message_delta", {
        type: "message_delta",
        delta: { stop_reason: stopReason, stop_sequence: null },
        usage: { output_tokens: u.output },
      }),
      sse("message_stop", { type: "message_stop" }),
    ];
    return new Response(events.join(""), {
      headers: { "content-type": "text/event-stream", "cache-control": "no-cache", ...respHeaders },
    });
  }
}
