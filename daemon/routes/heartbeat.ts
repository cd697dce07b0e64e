/**
 * A runner's heartbeat: the agent's signed report every few seconds. The most frequent request by far
 * (one per runner per interval), so besides its hono route (agent.ts) it has a fast path in front of hono
 * for the common case, with the same checks in the same order and the same answers (bench/heartbeat.ts).
 */
import { AppError } from "../../lib/errors.ts";
import { retryOnDeadlock } from "../../lib/db/types.ts";
import type { ReportedPoint } from "../../lib/claude/telemetry_usage.ts";
import {
  type HeartbeatRequest,
  heartbeatRequest,
  type HeartbeatResponse,
  isPlainHeartbeat,
  type ReportedTotal,
} from "../../lib/schemas/runner.ts";
import { SIGNATURE_HEADER } from "../../lib/signature.ts";
import { INSTALLATION_HEADER } from "../../lib/runner_client.ts";
import { verify } from "../../lib/signature_verify.ts";
import { isActive } from "../../lib/runner_states.ts";
import { recordReported, recordUsage } from "../store/usage.ts";
import { runnerNotFound } from "../store/runners.ts";
import { MAX_BODY_BYTES, parseBodyText, readText } from "../http/body.ts";
import { bearer } from "../http/auth.ts";
import { errorResponse } from "../http/errors.ts";
import type { RequestDrain } from "../http/drain.ts";
import type { Services } from "../services.ts";
import type { AgentRouteHooks } from "./agent.ts";

/**
 * Records one heartbeat of runner `id`, whose token was checked: the signature, the write (batched), the
 * usage it reports. Answers what the agent needs: the runner's state and whether to stop.
 */
export async function recordHeartbeat(
  s: Services,
  hooks: AgentRouteHooks,
  id: number,
  signature: string | undefined,
  text: string,
  body: HeartbeatRequest,
): Promise<HeartbeatResponse> {
  const signedMs = checkSignature(s, id, signature, text);
  const result = await s.heartbeats.submit(id, body, signedMs);
  if (!result) throw runnerNotFound(id);
  if (result.replayed && isActive(result.state)) throw replayed();
  if (!result.accepted) throw notActive(id, result.state, result.reason);
  if (body.usage?.length || body.reported?.length) {
    const { usage = [], reported = [] } = body;
    await retryOnDeadlock(() =>
      s.db.transaction(async (tx) => {
        const deltas = [
          ...await recordUsage(tx, id, usage, hooks.prices),
          ...await recordReported(tx, id, "result", reported.flatMap(resultValues)),
        ];
        if (deltas.length && hooks.afterUsage) await hooks.afterUsage(tx, deltas);
      })
    );
  }
  return { state: result.state, stopRequested: result.stopRequested, intervalMs: s.config.heartbeatInterval };
}

export interface FastPathOptions {
  hooks: AgentRouteHooks;
  drain: RequestDrain;
  /** The metrics hook app.ts calls for every request (hono's route pattern, never the raw path). */
  onRequest?: (route: string, method: string, status: number, seconds: number) => void;
}

const PATH = /^\/api\/v1\/runners\/([1-9]\d{0,14})\/heartbeat$/;
const ROUTE = "/api/v1/runners/:id/heartbeat";
const JSON_HEADERS = { "content-type": "application/json" };

/**
 * The heartbeat without hono's routing, context and middleware (a third of the daemon's CPU per heartbeat
 * in a profile). It answers only when nothing but the heartbeat's own checks can fail before the body is
 * read: POST to the exact path (no query, nothing percent-encoded), no upgrade, a declared length within
 * the limit, a runner token the cache vouches for (AgentTokenCache.cached), the daemon not draining.
 * Anything else returns undefined before touching the body, and hono answers it as before. What the
 * middleware does for a heartbeat is done here too: the drain's count, the request time limit, the metrics.
 */
export function heartbeatFastPath(
  s: Services,
  opts: FastPathOptions,
): (req: Request) => Promise<Response> | undefined {
  const deadlines = new Deadlines(s.config.requestTimeout);
  const answerHeaders = { ...JSON_HEADERS, [INSTALLATION_HEADER]: s.installation };
  return (req) => {
    if (req.method !== "POST") return undefined;
    const url = req.url;
    const m = PATH.exec(url.slice(url.indexOf("/", url.indexOf("//") + 2)));
    if (!m) return undefined;
    const headers = req.headers;
    if (headers.has("upgrade") || opts.drain.draining) return undefined;
    const declared = Number(headers.get("content-length") ?? "NaN");
    if (!(declared <= MAX_BODY_BYTES)) return undefined;
    const token = bearer(headers.get("authorization") ?? undefined);
    const id = Number(m[1]);
    if (token === undefined || s.tokens.cached(s.db, id, token) !== "ok") return undefined;
    return serve(s, opts, deadlines, req, id, answerHeaders);
  };
}

async function serve(
  s: Services,
  opts: FastPathOptions,
  deadlines: Deadlines,
  req: Request,
  id: number,
  headers: Record<string, string>,
): Promise<Response> {
  const started = performance.now();
  opts.drain.enter();
  let status = 500;
  try {
    const reply = await deadlines.race(answer(s, opts.hooks, req, id));
    status = 200;
    return new Response(JSON.stringify(reply), { headers });
  } catch (e) {
    const res = errorResponse(s.log, e as Error, "POST", new URL(req.url).pathname);
    res.headers.set(INSTALLATION_HEADER, s.installation);
    status = res.status;
    return res;
  } finally {
    opts.drain.leave();
    opts.onRequest?.(ROUTE, "POST", status, (performance.now() - started) / 1000);
  }
}

async function answer(s: Services, hooks: AgentRouteHooks, req: Request, id: number) {
  // The declared length is within the limit (checked before the fast path took it): read in one go.
  const text = await readText(req);
  const headers = req.headers;
  const body = parseBodyText(
    text,
    headers.get("content-type") ?? undefined,
    heartbeatRequest,
    isPlainHeartbeat,
  );
  return await recordHeartbeat(s, hooks, id, headers.get(SIGNATURE_HEADER) ?? undefined, text, body);
}

/**
 * The request time limit (app.ts's timeout middleware) with one timer per 100 ms of requests rather than
 * one per heartbeat: a request is abandoned between `ms` and `ms` + 100 ms after it started.
 */
class Deadlines {
  #ms: number;
  #bucket?: { until: number; waiting: Set<(e: Error) => void> };

  constructor(ms: number) {
    this.#ms = ms;
  }

  race<T>(work: Promise<T>): Promise<T> {
    const now = performance.now();
    let bucket = this.#bucket;
    if (bucket === undefined || now >= bucket.until) {
      const waiting = new Set<(e: Error) => void>();
      bucket = this.#bucket = { until: now + 100, waiting };
      const error = new AppError(
        "timeout",
        `request took longer than ${Math.round(this.#ms / 1000)}s and was abandoned`,
      );
      Deno.unrefTimer(setTimeout(() => {
        for (const reject of waiting) reject(error);
      }, this.#ms + 100));
    }
    const waiting = bucket.waiting;
    return new Promise<T>((resolve, reject) => {
      waiting.add(reject);
      work.then((v) => {
        waiting.delete(reject);
        resolve(v);
      }, (e) => {
        waiting.delete(reject);
        reject(e);
      });
    });
  }
}

/**
 * A result event's per-model totals as reported series (one per kind; the event is cumulative). The series
 * key is stored as text, which PostgreSQL refuses to hold a NUL in: JSON keeps the parts apart without one.
 */
function resultValues(t: ReportedTotal): ReportedPoint[] {
  const of = (kind: ReportedPoint["kind"], value: number): ReportedPoint => ({
    series: JSON.stringify([t.sessionId, t.model, kind]),
    start: "0",
    sessionId: t.sessionId,
    model: t.model,
    kind,
    value,
  });
  return [
    of("cost", t.costUsd),
    of("input", t.input),
    of("output", t.output),
    of("cacheRead", t.cacheRead),
    of("cacheCreation", t.cacheCreation),
  ];
}

function replayed(): AppError {
  return new AppError("unauthorized", "a heartbeat was replayed (its time is not newer)", {
    details: { signature: "replayed" },
  });
}

/**
 * Heartbeats are HMAC-signed with the runner's key (lib/signature.ts); replays and stale ones are refused.
 * This daemon's memory catches a replay at once; the database (agent_tokens.last_signed_ms, written with the
 * heartbeat) catches one across a restart or another daemon. Returns the signature time.
 */
function checkSignature(s: Services, id: number, header: string | undefined, text: string): number {
  const key = s.tokens.knownHash(id);
  if (!key) throw new AppError("unauthorized", `invalid token for runner ${id}`);
  const { result, timestamp } = verify(header, key, text, Date.now());
  const why = {
    missing: `heartbeats must be signed: send ${SIGNATURE_HEADER} (the agent does)`,
    malformed: `${SIGNATURE_HEADER} must look like t=<ms>,v1=<hex>`,
    stale: "the heartbeat's signature time is more than 5 minutes off: check this machine's clock",
    bad: "the heartbeat's signature does not match its body",
  };
  // details.signature tells these from a refused token: the agent ends its session only for the latter.
  if (result !== "ok") throw new AppError("unauthorized", why[result], { details: { signature: result } });
  if (!s.heartbeats.claimSigned(id, timestamp!)) throw replayed();
  return timestamp!;
}

export function notActive(id: number, state: string, reason: string | null): AppError {
  return new AppError(
    "runner_not_active",
    `runner ${id} is ${state}${reason ? ` (${reason})` : ""} and no longer accepts reports from its agent`,
    { details: { state, reason } },
  );
}
