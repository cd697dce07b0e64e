/**
 * /api/v1/events: the live stream (SSE, resumable with Last-Event-ID), recent events as JSON, and the
 * dead letters with their retry.
 */
import { z } from "zod";
import type { Db } from "../../lib/db/types.ts";
import { AppError } from "../../lib/errors.ts";
import { type EventEnvelope, typeFilter, typeFilterText } from "../../lib/schemas/event.ts";
import { readParam } from "../http/body.ts";
import { type Route, Routes } from "../http/route.ts";
import type { EventTail } from "../outbox/tail.ts";
import { deadEvents, publishedSince, recentPublished, requeueDead, toEnvelope } from "../outbox/queue.ts";
import { ID_RE } from "../../lib/ids.ts";

// Capped in length and in `*`: the stream matches in JS (linear), recent events with SQL LIKE.
const types = typeFilterText.optional();
const seqParam = z.string().regex(/^\d{1,15}$/, "expected an event id (a whole number)").transform(Number)
  .optional();
const limitParam = z.string().regex(/^\d{1,4}$/, "expected a whole number up to 9999").transform(Number)
  .optional();
const idParam = z.string().regex(ID_RE, "expected an event id").transform(Number);

function likePatterns(spec: string | undefined): string[] {
  return (spec ?? "").split(",").map((s) => s.trim()).filter(Boolean).map((p) =>
    p.replace(/_/g, "\\_").replace(/\*/g, "%")
  );
}

export interface EventDeps {
  db: Db;
  tail: EventTail;
  shutdown: AbortSignal;
}

const enc = new TextEncoder();

function sseFrame(e: EventEnvelope): Uint8Array {
  return enc.encode(`id: ${e.seq}\nevent: ${e.type}\ndata: ${JSON.stringify(e)}\n\n`);
}

export function eventRoutes(d: EventDeps): Route[] {
  const app = new Routes("/events");

  app.get("/", { auth: "admin", longLived: true, urlToken: true }, (c) => {
    const spec = readParam("types", c.req.query("types"), types);
    const since = readParam("Last-Event-ID", c.req.header("last-event-id") ?? c.req.query("since"), seqParam);
    const matches = typeFilter(spec);
    const signal = AbortSignal.any([c.req.raw.signal, d.shutdown]);
    let cleanup = () => {};
    const stream = new ReadableStream<Uint8Array>({
      start(controller) {
        let sent = since ?? d.tail.cursor;
        let live = false;
        const early: EventEnvelope[] = [];
        let closed = false;
        const send = (e: EventEnvelope) => {
          if (closed || e.seq === null || e.seq <= sent) return;
          sent = e.seq;
          if (matches(e.type)) controller.enqueue(sseFrame(e));
        };
        const unsubscribe = d.tail.subscribe((e) => (live ? send(e) : early.push(e)));
        const ping = setInterval(() => !closed && controller.enqueue(enc.encode(": ping\n\n")), 15_000);
        cleanup = () => {
          if (closed) return;
          closed = true;
          unsubscribe();
          clearInterval(ping);
          try {
            controller.close();
          } catch { /* already closed */ }
        };
        signal.addEventListener("abort", cleanup, { once: true });
        controller.enqueue(enc.encode(`retry: 2000\n: stratavore events${spec ? ` (${spec})` : ""}\n\n`));
        (async () => {
          // Resume: what was published after the client's last event, then the live stream.
          if (since !== undefined) {
            for (;;) {
              const rows = await publishedSince(d.db, sent, 1000);
              for (const r of rows) send(toEnvelope(r));
              if (rows.length < 1000) break;
            }
          }
          live = true;
          for (const e of early) send(e);
        })().catch(() => cleanup());
      },
      cancel() {
        cleanup();
      },
    });
    return new Response(stream, {
      headers: {
        "content-type": "text/event-stream; charset=utf-8",
        "cache-control": "no-cache",
        "x-accel-buffering": "no",
      },
    });
  });

  app.get("/recent", { auth: "admin" }, async (c) => {
    const spec = readParam("types", c.req.query("types"), types);
    const limit = Math.min(readParam("limit", c.req.query("limit"), limitParam) ?? 50, 1000);
    const patterns = likePatterns(spec);
    const rows = await recentPublished(d.db, limit, patterns);
    return c.json({ events: rows.map(toEnvelope) });
  });

  app.get("/dead", { auth: "admin" }, async (c) => {
    const limit = Math.min(readParam("limit", c.req.query("limit"), limitParam) ?? 100, 1000);
    const { events, total: n } = await deadEvents(d.db, limit);
    return c.json({ events, total: n });
  });

  const requeue = (id?: number) => requeueDead(d.db, id);

  app.post("/dead/retry", { auth: "admin" }, async (c) => c.json({ requeued: await requeue() }));

  app.post("/dead/:id/retry", { auth: "admin" }, async (c) => {
    const id = readParam("event id", c.req.param("id"), idParam);
    const requeued = await requeue(id);
    if (requeued.length === 0) {
      throw new AppError(
        "not_found",
        `event ${id} is not dead-lettered: list them with "stratavore events dead"`,
      );
    }
    return c.json({ requeued });
  });

  return app.list;
}
