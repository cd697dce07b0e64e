/**
 * Metrics for the daemon: the hooks that observe requests and the relay, the `/metrics` listener on
 * STRATAVORE_METRICS_LISTEN (no auth, loopback by default), and the same text behind the admin token at
 * GET /api/v1/metrics.
 */
import { guardHost } from "../http/host.ts";
import type { Logger } from "../../lib/log.ts";
import { isLoopback, listenUrl, parseListen } from "../../lib/listen.ts";
import type { EventEnvelope } from "../../lib/schemas/event.ts";
import { type Route, Routes } from "../http/route.ts";
import type { RelayOptions } from "../outbox/relay.ts";
import { DaemonMetrics, type MetricsDeps } from "./registry.ts";

const METHODS = new Set(["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"]);
export const HEARTBEAT_ROUTE = "/api/v1/runners/:id/heartbeat";
/** Event types become label values: only well-formed ones, and a bounded number of them. */
const EVENT_TYPE = /^[a-z][a-z0-9_]{0,30}\.[a-z][a-z0-9_]{0,40}$/;
const MAX_EVENT_TYPES = 100;
/** Started at 0, so increase() sees the first one (alerts on budget.exceeded, runner.failed…). */
const KNOWN_EVENT_TYPES = [
  "daemon.started",
  "daemon.stopped",
  "project.created",
  "project.updated",
  "project.deleted",
  "project.quota_exceeded",
  "runner.launched",
  "runner.started",
  "runner.stopping",
  "runner.stopped",
  "runner.failed",
  "runner.killed",
  "runner.activity",
  "runner.worktree",
  "runner.permission_requested",
  "runner.permission_answered",
  "budget.warning",
  "budget.exceeded",
  "budget.launch_refused",
  "limits.warning",
  "limits.reached",
  "limits.launch_refused",
  "runner.limited",
  "event.dead_lettered",
];

export class Metrics {
  readonly m: DaemonMetrics;
  #log: Logger;
  #delivered: string[] = [];
  #types = new Set<string>();
  #server?: Deno.HttpServer<Deno.NetAddr>;

  constructor(deps: MetricsDeps) {
    this.m = new DaemonMetrics(deps);
    this.#log = deps.log;
    for (const type of KNOWN_EVENT_TYPES) {
      this.#types.add(type);
      this.m.eventsPublished.inc({ type }, 0);
    }
  }

  /** app.ts's onRequest hook: `route` is hono's route pattern, never the raw path. */
  onRequest = (route: string, method: string, status: number, seconds: number): void => {
    const m = METHODS.has(method) ? method : "other";
    this.m.httpDuration.observe({ route, method: m, status: String(status) }, seconds);
    if (route === HEARTBEAT_ROUTE && method === "POST") this.m.heartbeatLatency.observe(seconds);
  };

  /** The relay's onDelivered hook (inside the marking transaction): types are counted once it commits. */
  noteDelivered(events: EventEnvelope[]): void {
    this.#delivered = events.map((e) => e.type);
  }

  /** The relay's onBatch hook: after the batch is settled. */
  onBatch: NonNullable<RelayOptions["onBatch"]> = (stats) => {
    for (const ms of stats.latenciesMs) this.m.publishLatency.observe(Math.max(0, ms) / 1000);
    const types = this.#delivered;
    this.#delivered = [];
    if (stats.published === 0) return;
    for (const t of types) {
      const type = EVENT_TYPE.test(t) && (this.#types.has(t) || this.#types.size < MAX_EVENT_TYPES)
        ? t
        : "other";
      this.#types.add(type);
      this.m.eventsPublished.inc({ type });
    }
  };

  async text(): Promise<string> {
    return await this.m.scrape();
  }

  /**
   * Serves /metrics on its own address; returns the scrape URL, or undefined when the address cannot be
   * bound (the daemon runs on without it: the API keeps serving /api/v1/metrics).
   */
  serve(listen: string, allowedHosts: readonly string[] = []): string | undefined {
    const addr = parseListen(listen)!;
    try {
      this.#server = Deno.serve(
        { hostname: addr.hostname, port: addr.port, onListen: () => {} },
        // The same Host check as the API (daemon/http/host.ts): no DNS rebinding onto the metrics either.
        guardHost(allowedHosts, (req) => this.#handle(req)),
      );
    } catch (e) {
      this.#log.error(
        `cannot serve metrics on ${listen}: ${(e as Error).message}; set STRATAVORE_METRICS_LISTEN`,
        {
          listen,
        },
      );
      return undefined;
    }
    const url = `${listenUrl(this.#server.addr)}/metrics`;
    if (!isLoopback(addr.hostname)) {
      this.#log.warn("metrics are served beyond this machine without a token", { listen });
    }
    this.#log.info(`metrics on ${url}`, { metricsUrl: url });
    return url;
  }

  async #handle(req: Request): Promise<Response> {
    const path = new URL(req.url).pathname;
    if (path === "/metrics" && (req.method === "GET" || req.method === "HEAD")) {
      try {
        const body = await this.text();
        return new Response(req.method === "HEAD" ? null : body, {
          headers: { "content-type": this.m.registry.contentType },
        });
      } catch (e) {
        this.#log.error("metrics scrape failed", { error: e as Error });
        return new Response("metrics unavailable\n", { status: 500 });
      }
    }
    if (path === "/") return new Response("stratavore metrics: GET /metrics\n");
    return new Response("not found: the metrics are at /metrics\n", { status: 404 });
  }

  async stop(): Promise<void> {
    await this.#server?.shutdown();
  }
}

/** GET /api/v1/metrics: the same text as the metrics port's, behind the admin token. */
export function metricsRoutes(metrics: Metrics): Route[] {
  return new Routes("/metrics").get(
    "/",
    { auth: "admin" },
    async (c) => c.body(await metrics.text(), 200, { "content-type": metrics.m.registry.contentType }),
  ).list;
}
