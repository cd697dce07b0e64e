/**
 * Following the daemon's event stream (server-sent events): frames parsed as they arrive, and on a dropped
 * connection a reconnect that resumes after the last event seen (Last-Event-ID), so nothing is missed.
 */
import type { StratavoreClient } from "./client.ts";
import { AppError } from "./errors.ts";
import { type EventEnvelope, eventEnvelope } from "./schemas/event.ts";

export interface SseFrame {
  id?: string;
  event?: string;
  data: string;
}

/** Splits a byte stream into SSE frames (comments and retry lines are skipped); stops when signal aborts. */
export async function* sseFrames(
  body: ReadableStream<Uint8Array>,
  signal?: AbortSignal,
): AsyncGenerator<SseFrame> {
  let buf = "";
  let frame: SseFrame = { data: "" };
  let hasData = false;
  const reader = body.pipeThrough(new TextDecoderStream()).getReader();
  // Cancelling the reader ends a pending read at once (an aborted fetch alone did not always).
  const stop = () => void reader.cancel().catch(() => {});
  signal?.addEventListener("abort", stop, { once: true });
  try {
    for (;;) {
      const { done, value: chunk } = await reader.read();
      if (done || signal?.aborted) return;
      buf += chunk;
      let i;
      while ((i = buf.indexOf("\n")) >= 0) {
        const line = buf.slice(0, i).replace(/\r$/, "");
        buf = buf.slice(i + 1);
        if (line === "") {
          if (hasData) yield frame;
          frame = { data: "" };
          hasData = false;
        } else if (!line.startsWith(":")) {
          const colon = line.indexOf(":");
          const field = colon < 0 ? line : line.slice(0, colon);
          const value = colon < 0 ? "" : line.slice(colon + 1).replace(/^ /, "");
          if (field === "data") {
            frame.data += (hasData ? "\n" : "") + value;
            hasData = true;
          } else if (field === "id") frame.id = value;
          else if (field === "event") frame.event = value;
        }
      }
    }
  } finally {
    signal?.removeEventListener("abort", stop);
    reader.releaseLock();
  }
}

export interface FollowOptions {
  types?: string;
  /** Resume after this event seq (else: from now). */
  since?: number;
  signal: AbortSignal;
  onEvent(e: EventEnvelope): void;
  /** "live" once connected, "reconnecting" while the stream is down. */
  onState?(state: "live" | "reconnecting", error?: string): void;
}

/** Follows the stream until the signal aborts, reconnecting with backoff (1 s … 10 s). */
export async function followEvents(client: StratavoreClient, o: FollowOptions): Promise<void> {
  let last = o.since;
  let failures = 0;
  while (!o.signal.aborted) {
    try {
      const res = await client.raw("GET", "/api/v1/events", {
        query: { types: o.types },
        headers: {
          accept: "text/event-stream",
          ...(last !== undefined ? { "last-event-id": String(last) } : {}),
        },
        timeoutMs: 0,
        signal: o.signal,
      });
      if (res.status === 401 || res.status === 403) {
        const body = await res.json().catch(() => undefined);
        throw new AppError(
          res.status === 401 ? "unauthorized" : "forbidden",
          body?.error?.message ?? `HTTP ${res.status}`,
        );
      }
      if (!res.ok || !res.body) {
        const text = await res.text().catch(() => "");
        throw new Error(`event stream answered ${res.status}: ${text.slice(0, 200)}`);
      }
      failures = 0;
      o.onState?.("live");
      for await (const f of sseFrames(res.body, o.signal)) {
        const parsed = eventEnvelope.safeParse(JSON.parse(f.data));
        if (!parsed.success) continue;
        if (parsed.data.seq !== null) last = parsed.data.seq;
        o.onEvent(parsed.data);
      }
      if (o.signal.aborted) return;
      o.onState?.("reconnecting", "the stream ended");
    } catch (e) {
      if (o.signal.aborted) return;
      failures++;
      o.onState?.("reconnecting", (e as Error).message);
      if (e instanceof AppError && (e.code === "unauthorized" || e.code === "forbidden")) throw e;
    }
    await new Promise((r) => {
      const t = setTimeout(r, Math.min(10_000, 1000 * 2 ** Math.min(failures, 4)));
      o.signal.addEventListener("abort", () => {
        clearTimeout(t);
        r(undefined);
      }, { once: true });
    });
  }
}
