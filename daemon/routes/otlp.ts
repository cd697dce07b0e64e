/**
 * The OTLP/HTTP receiver (JSON) for the telemetry of the Claude Code sessions runners start:
 * `POST /api/v1/otlp/v1/metrics` and `/v1/logs`, authenticated with the runner's token. Cost and token
 * counters are booked as Claude Code's own figures (daemon/store/usage.ts); `api_request` / `api_error`
 * events are kept one row per call. Every point is attributed to the token's runner; a point whose resource
 * names another runner is refused.
 */
import type { Context } from "hono";
import { AppError } from "../../lib/errors.ts";
import { type Queryable, retryOnDeadlock } from "../../lib/db/types.ts";
import { exportResponse, parseLogs, parseMetrics } from "../../lib/otlp.ts";
import { RUNNER_ATTR } from "../../lib/claude/telemetry.ts";
import { apiCalls, reportedPoints } from "../../lib/claude/telemetry_usage.ts";
import { readText } from "../http/body.ts";
import type { AppEnv } from "../http/types.ts";
import { type Route, Routes } from "../http/route.ts";
import type { Services } from "../services.ts";
import { adoptReportedTokens, recordReported, type UsageDelta } from "../store/usage.ts";
import { recordApiCalls } from "../store/api_calls.ts";
import { observedRunnersOf } from "../store/runners.ts";

/** Compressed or not, an export larger than this is refused (Claude Code's are a few kB). */
export const MAX_OTLP_BYTES = 4 * 1024 * 1024;

export interface OtlpHooks {
  /** Runs in the transaction that booked reported cost (budgets count it there). */
  afterUsage?: (tx: Queryable, deltas: UsageDelta[]) => Promise<void>;
  /** Observes each export: what it carried and how long it took (metrics). */
  onExport?: (kind: "metrics" | "logs", accepted: number, rejected: number, seconds: number) => void;
}

async function readExport(c: Context<AppEnv>): Promise<unknown> {
  const type = c.req.header("content-type") ?? "";
  if (/protobuf/i.test(type)) {
    throw new AppError(
      "unsupported_media_type",
      "this receiver takes OTLP/HTTP JSON: set OTEL_EXPORTER_OTLP_PROTOCOL=http/json",
    );
  }
  if (!/^application\/json\b/i.test(type)) {
    throw new AppError(
      "unsupported_media_type",
      `OTLP exports must be application/json, not "${type || "none"}"`,
    );
  }
  const encoding = (c.req.header("content-encoding") ?? "").toLowerCase();
  if (encoding && encoding !== "gzip" && encoding !== "identity") {
    throw new AppError(
      "unsupported_media_type",
      `Content-Encoding "${encoding}" is not supported (use gzip or none)`,
    );
  }
  const req = c.req.raw;
  const body = encoding === "gzip" && req.body
    ? req.body.pipeThrough(
      new DecompressionStream("gzip") as unknown as TransformStream<Uint8Array, Uint8Array>,
    )
    : req.body;
  let text: string;
  try {
    // The limit applies to the decompressed bytes too, so a small gzip bomb cannot expand past it.
    text = await readText(req, MAX_OTLP_BYTES, body);
  } catch (e) {
    if (e instanceof AppError) throw e;
    throw new AppError("bad_request", `the export could not be read: ${(e as Error).message}`);
  }
  try {
    return JSON.parse(text);
  } catch (e) {
    throw new AppError("invalid_json", `the export is not valid JSON: ${(e as Error).message}`);
  }
}

/**
 * Whose points these are: a runner's token names its runner; the observer token (machine-wide settings of
 * `hooks install`) reports observed sessions, each found by its session id.
 */
async function runnersOf(
  s: Services,
  c: Context<AppEnv>,
  sessionIds: string[],
): Promise<(sessionId: string) => number | undefined> {
  const actor = c.get("actor");
  if (actor?.kind === "runner") return () => actor.runnerId;
  if (actor?.kind !== "observer") throw new AppError("forbidden", "OTLP exports take a runner's token");
  const by = await observedRunnersOf(s.db, sessionIds);
  return (sessionId) => by.get(sessionId);
}

/** Only points of the token's own runner (or naming none) are taken. */
function ownPoints<T extends { attrs: Record<string, unknown> }>(items: T[], runnerId: number) {
  const own = items.filter((p) =>
    p.attrs[RUNNER_ATTR] === undefined || String(p.attrs[RUNNER_ATTR]) === String(runnerId)
  );
  return { own, foreign: items.length - own.length };
}

export function otlpRoutes(s: Services, hooks: OtlpHooks = {}): Route[] {
  const app = new Routes("/otlp");
  // The latest value booked per series, so an export that changed nothing costs no database write.
  const seen = new Map<string, number>();

  app.post("/v1/metrics", { auth: "runner-or-observer", audit: "report" }, async (c) => {
    const started = performance.now();
    const parsed = parseMetrics(await readExport(c));
    const observer = c.get("actor")?.kind === "observer";
    const runnerId = observer ? undefined : (c.get("actor") as { runnerId: number }).runnerId;
    const { own, foreign } = runnerId === undefined
      ? { own: parsed.items, foreign: 0 }
      : ownPoints(parsed.items, runnerId);
    const { points, skipped } = reportedPoints(own);
    const runnerFor = await runnersOf(s, c, [...new Set(points.map((p) => p.sessionId))]);
    // Points of a session not known yet (an observed one before its first hook) come again: counters are
    // cumulative.
    let unknown = 0;
    const byRunner = new Map<number, typeof points>();
    for (const p of points) {
      const id = runnerFor(p.sessionId);
      if (id === undefined) {
        unknown++;
        continue;
      }
      if (seen.get(`${id}\u0000${p.series}\u0000${p.start}`) === p.value) continue;
      byRunner.set(id, [...byRunner.get(id) ?? [], p]);
    }
    for (const [id, fresh] of byRunner) {
      await retryOnDeadlock(() =>
        s.db.transaction(async (tx) => {
          const deltas = await recordReported(tx, id, "telemetry", fresh);
          // Observed sessions: no agent reads their transcripts; Claude Code's counts are their tokens.
          if (observer) deltas.push(...await adoptReportedTokens(tx, id));
          if (deltas.length && hooks.afterUsage) await hooks.afterUsage(tx, deltas);
        })
      );
      if (seen.size > 200_000) seen.clear();
      for (const p of fresh) seen.set(`${id}\u0000${p.series}\u0000${p.start}`, p.value);
    }
    const rejected = parsed.rejected + foreign + skipped + unknown;
    hooks.onExport?.("metrics", points.length, rejected, (performance.now() - started) / 1000);
    return c.json(exportResponse(
      "metrics",
      rejected,
      foreign ? `points of another runner (${RUNNER_ATTR}) are refused` : undefined,
    ));
  });

  app.post("/v1/logs", { auth: "runner-or-observer", audit: "report" }, async (c) => {
    const started = performance.now();
    const parsed = parseLogs(await readExport(c));
    const observer = c.get("actor")?.kind === "observer";
    const runnerId = observer ? undefined : (c.get("actor") as { runnerId: number }).runnerId;
    const { own, foreign } = runnerId === undefined
      ? { own: parsed.items, foreign: 0 }
      : ownPoints(parsed.items, runnerId);
    const calls = apiCalls(own);
    const runnerFor = await runnersOf(s, c, [...new Set(calls.map((a) => a.sessionId))]);
    const byRunner = new Map<number, typeof calls>();
    for (const call of calls) {
      const id = runnerFor(call.sessionId);
      if (id !== undefined) byRunner.set(id, [...byRunner.get(id) ?? [], call]);
    }
    for (const [id, list] of byRunner) await recordApiCalls(s.db, id, list);
    const rejected = parsed.rejected + foreign;
    hooks.onExport?.("logs", calls.length, rejected, (performance.now() - started) / 1000);
    return c.json(exportResponse(
      "logs",
      rejected,
      foreign ? `records of another runner (${RUNNER_ATTR}) are refused` : undefined,
    ));
  });

  return app.list;
}
