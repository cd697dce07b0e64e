/**
 * GET /api/v1/runners/:id/logs[?follow=true&offset=N]: the raw output of a detached runner (stream-json
 * lines), kept on the daemon's machine. With follow, the stream stays open until the runner has ended
 * and its log stops growing.
 */
import { z } from "zod";
import { AppError } from "../../lib/errors.ts";
import { runnerIdText } from "../../lib/schemas/common.ts";
import { readParam } from "../http/body.ts";
import type { Context } from "hono";
import type { AppEnv } from "../http/types.ts";
import { type Route, Routes } from "../http/route.ts";
import type { Services } from "../services.ts";
import { getRunner } from "../store/runners.ts";
import { isActive } from "../../lib/runner_states.ts";

const flag = z.enum(["true", "false", "1", "0"]).optional().transform((v) => v === "true" || v === "1");
const offsetParam = z.string().regex(/^\d{1,15}$/, "expected a byte offset").transform(Number).optional();
const limitParam = z.string().regex(/^[1-9]\d{0,11}$/, "expected a number of bytes").transform(Number)
  .optional();

/**
 * Logs are read in pieces of at most this many bytes: a terminal session's log can reach gigabytes, and
 * reading it whole into memory for one request could exhaust the daemon.
 */
export const LOG_CHUNK_BYTES = 256 * 1024;

/** Up to `max` bytes of the file from `offset` (none when it is missing or shorter). */
async function readChunk(path: string, offset: number, max = LOG_CHUNK_BYTES): Promise<Uint8Array> {
  let file: Deno.FsFile;
  try {
    file = await Deno.open(path, { read: true });
  } catch {
    return new Uint8Array();
  }
  try {
    const size = (await file.stat()).size;
    if (size <= offset) return new Uint8Array();
    await file.seek(offset, Deno.SeekMode.Start);
    const buf = new Uint8Array(Math.min(max, size - offset));
    let read = 0;
    while (read < buf.length) {
      const n = await file.read(buf.subarray(read));
      if (n === null) break;
      read += n;
    }
    return buf.subarray(0, read);
  } finally {
    file.close();
  }
}

export function logRoutes(s: Services, shutdown: AbortSignal): Route[] {
  const app = new Routes("/runners");
  // Followed, the stream stays open until the runner has ended.
  const followed = (c: Context<AppEnv>) => /^(true|1)$/.test(c.req.query("follow") ?? "");
  app.get("/:id/logs", { auth: "admin", longLived: followed }, async (c) => {
    const id = readParam("runner id", c.req.param("id"), runnerIdText);
    const follow = readParam("follow flag", c.req.query("follow"), flag);
    let offset = readParam("offset", c.req.query("offset"), offsetParam) ?? 0;
    // At most this many bytes in this answer (the next request continues at offset + what it got).
    let left = readParam("limit", c.req.query("limit"), limitParam) ?? Infinity;
    const runner = await getRunner(s.db, id);
    if (!runner.logPath) {
      throw new AppError(
        "not_found",
        `runner ${id} keeps no log: only detached runners (launch --detach) do`,
      );
    }
    const path = runner.logPath;
    const headers = { "content-type": "application/x-ndjson; charset=utf-8", "cache-control": "no-cache" };
    const client = c.req.raw.signal;
    if (!follow) {
      // Streamed piece by piece up to the file's end (or the limit), never read whole.
      return new Response(
        new ReadableStream<Uint8Array>({
          async pull(controller) {
            const chunk = left > 0 && !client.aborted
              ? await readChunk(path, offset, Math.min(LOG_CHUNK_BYTES, left))
              : new Uint8Array();
            if (chunk.length === 0) return controller.close();
            offset += chunk.length;
            left -= chunk.length;
            controller.enqueue(chunk);
          },
        }),
        { headers },
      );
    }
    const stream = new ReadableStream<Uint8Array>({
      async pull(controller) {
        let quietSince = Date.now();
        while (!client.aborted && !shutdown.aborted && left > 0) {
          const chunk = await readChunk(path, offset, Math.min(LOG_CHUNK_BYTES, left));
          if (chunk.length > 0) {
            offset += chunk.length;
            left -= chunk.length;
            controller.enqueue(chunk);
            return;
          }
          const ended = !isActive((await getRunner(s.db, id)).state);
          if (ended && Date.now() - quietSince > 1000) break;
          if (!ended) quietSince = Date.now();
          await new Promise((r) => setTimeout(r, 250));
        }
        controller.close();
      },
    });
    return new Response(stream, { headers });
  });
  return app.list;
}
