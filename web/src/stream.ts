/**
 * The live event stream (GET /api/v1/events, server-sent events) read with fetch, so the admin token
 * travels in the Authorization header and never in a URL. Like EventSource it reconnects by itself after
 * a drop, sending Last-Event-ID so the daemon replays what was missed (no gaps, no repeats), and it tells
 * its state: "connecting", "live", "reconnecting".
 */
import type { EventEnvelope } from "../../lib/schemas/event.ts";
import { auth } from "./api.ts";

export type StreamState = "connecting" | "live" | "reconnecting" | "closed";

export interface StreamHandlers {
  onEvent(e: EventEnvelope): void;
  onState(s: StreamState): void;
}

interface Frame {
  id?: string;
  event?: string;
  data: string[];
  retry?: number;
}

/** Parses SSE text incrementally; returns complete frames and keeps the rest. */
export class SseParser {
  #buf = "";
  push(chunk: string): Frame[] {
    this.#buf += chunk;
    const frames: Frame[] = [];
    for (;;) {
      const m = /\r?\n\r?\n/.exec(this.#buf);
      if (!m) break;
      const block = this.#buf.slice(0, m.index);
      this.#buf = this.#buf.slice(m.index + m[0].length);
      const f: Frame = { data: [] };
      for (const line of block.split(/\r?\n/)) {
        if (line === "" || line.startsWith(":")) continue;
        const colon = line.indexOf(":");
        const field = colon < 0 ? line : line.slice(0, colon);
        let value = colon < 0 ? "" : line.slice(colon + 1);
        if (value.startsWith(" ")) value = value.slice(1);
        if (field === "id") f.id = value;
        else if (field === "event") f.event = value;
        else if (field === "data") f.data.push(value);
        else if (field === "retry" && /^\d+$/.test(value)) f.retry = Number(value);
      }
      frames.push(f);
    }
    return frames;
  }
}

/** Opens the stream; the returned function closes it for good. */
export function openEventStream(h: StreamHandlers, types?: string): () => void {
  const stop = new AbortController();
  let lastId: string | undefined;
  let retryMs = 2000;

  (async () => {
    let failures = 0;
    h.onState("connecting");
    while (!stop.signal.aborted) {
      const token = auth.token;
      if (!token) break;
      try {
        const headers: Record<string, string> = {
          authorization: `Bearer ${token}`,
          accept: "text/event-stream",
        };
        if (lastId !== undefined) headers["last-event-id"] = lastId;
        const res = await fetch(`/api/v1/events${types ? `?types=${encodeURIComponent(types)}` : ""}`, {
          headers,
          signal: stop.signal,
          cache: "no-store",
        });
        if (res.status === 401) {
          auth.clear();
          break;
        }
        if (!res.ok || !res.body) throw new Error(`stream answered ${res.status}`);
        failures = 0;
        h.onState("live");
        const parser = new SseParser();
        const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
        for (;;) {
          const { done, value } = await reader.read();
          if (done) break;
          for (const f of parser.push(value)) {
            if (f.retry !== undefined) retryMs = f.retry;
            if (f.id !== undefined) lastId = f.id;
            if (f.data.length === 0) continue;
            try {
              h.onEvent(JSON.parse(f.data.join("\n")) as EventEnvelope);
            } catch (e) {
              console.warn("ignoring an event the page could not handle", e);
            }
          }
        }
      } catch (e) {
        if (stop.signal.aborted) break;
        console.debug("event stream dropped", e);
      }
      if (stop.signal.aborted) break;
      h.onState("reconnecting");
      failures++;
      const wait = Math.min(retryMs * Math.min(failures, 5), 10_000);
      await new Promise((r) => setTimeout(r, failures === 1 ? Math.min(retryMs, 1000) : wait));
    }
    h.onState("closed");
  })();

  return () => stop.abort();
}
