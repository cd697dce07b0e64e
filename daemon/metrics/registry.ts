/**
 * The daemon's Prometheus metrics, in a registry of its own. Gauges and stored totals are read from the
 * database when scraped (snapshot.ts); histograms and event counts are observed by this process.
 */
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from "prom-client";
import type { Db } from "../../lib/db/types.ts";
import type { Logger } from "../../lib/log.ts";
import { VERSION } from "../../lib/version.ts";
import { readSnapshot, type Snapshot } from "./snapshot.ts";

export interface MetricsDeps {
  db: Db;
  log: Logger;
  startedAt: Date;
  database: string;
  broker: () => string;
}

const KINDS = [
  ["input", "input"],
  ["output", "output"],
  ["cache_creation", "cacheCreation"],
  ["cache_read", "cacheRead"],
] as const;

/** Gauges named *_total break Prometheus conventions (promtool refuses them); Deno reports them anyway. */
const DROPPED_DEFAULTS = [
  "nodejs_active_handles_total",
  "nodejs_active_requests_total",
  "nodejs_active_resources_total",
];

export class DaemonMetrics {
  readonly registry = new Registry();
  readonly httpDuration: Histogram<"route" | "method" | "status">;
  readonly heartbeatLatency: Histogram;
  readonly publishLatency: Histogram;
  readonly eventsPublished: Counter<"type">;
  readonly telemetryPoints: Counter<"signal" | "result">;
  readonly telemetryDuration: Histogram<"signal">;
  #deps: MetricsDeps;
  #snapshot?: { at: number; value: Promise<Snapshot | undefined> };

  constructor(deps: MetricsDeps) {
    this.#deps = deps;
    const registers = [this.registry];
    // The event-loop delay histogram samples on a timer: at prom-client's default 10 ms that timer alone
    // cost the idle daemon 0.5 % of a core (bench/footprint.ts). One sample a second still sees a stall.
    collectDefaultMetrics({ register: this.registry, eventLoopMonitoringPrecision: 1000 });
    for (const name of DROPPED_DEFAULTS) this.registry.removeSingleMetric(name);

    this.httpDuration = new Histogram({
      name: "stratavore_http_request_duration_seconds",
      help: "Time the API took to answer, by route pattern, method and status.",
      labelNames: ["route", "method", "status"],
      buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
      registers,
    });
    this.heartbeatLatency = new Histogram({
      name: "stratavore_heartbeat_latency_seconds",
      help: "Time the daemon took to answer an agent's heartbeat.",
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
      registers,
    });
    this.publishLatency = new Histogram({
      name: "stratavore_outbox_publish_seconds",
      help: "Time from an event's commit to its publication by this daemon's relay.",
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300],
      registers,
    });
    this.telemetryPoints = new Counter({
      name: "stratavore_telemetry_points_total",
      help: 'Claude Code telemetry received: cost and token points (signal="metrics") and API call events ' +
        '(signal="logs"), accepted or rejected.',
      labelNames: ["signal", "result"],
      registers,
    });
    this.telemetryDuration = new Histogram({
      name: "stratavore_telemetry_export_seconds",
      help: "Time the daemon took to ingest one OTLP export.",
      labelNames: ["signal"],
      buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1],
      registers,
    });
    this.eventsPublished = new Counter({
      name: "stratavore_events_published_total",
      help: "Events this daemon's relay published, by event type.",
      labelNames: ["type"],
      registers,
    });

    new Gauge({
      name: "stratavore_daemon_uptime_seconds",
      help: "Seconds since this daemon started.",
      registers,
      collect() {
        this.set((Date.now() - deps.startedAt.getTime()) / 1000);
      },
    });
    new Gauge({
      name: "stratavore_daemon_info",
      help: "Always 1; the labels say which version runs on which storage and broker.",
      labelNames: ["version", "database", "broker"],
      registers,
      collect() {
        this.reset();
        this.set({ version: VERSION, database: deps.database, broker: deps.broker() }, 1);
      },
    });
    this.#dbMetrics(registers);
  }

  /** Registry output with a fresh database reading (shared by every metric of this scrape). */
  async scrape(): Promise<string> {
    this.#snapshot = undefined;
    return await this.registry.metrics();
  }

  /** One database reading per scrape: each metric's collect shares it. */
  #read(): Promise<Snapshot | undefined> {
    const now = Date.now();
    if (!this.#snapshot || now - this.#snapshot.at > 500) {
      const value = readSnapshot(this.#deps.db).catch((e) => {
        this.#deps.log.warn("metrics: cannot read the database", { error: (e as Error).message });
        return undefined;
      });
      this.#snapshot = { at: now, value };
    }
    return this.#snapshot.value;
  }

  #dbMetrics(registers: Registry[]): void {
    const read = () => this.#read();
    /** A gauge (or stored counter) whose series are all rewritten from the snapshot at each scrape. */
    const fromDb = <L extends string>(
      Type: typeof Gauge | typeof Counter,
      name: string,
      help: string,
      labelNames: L[],
      fill: (s: Snapshot, put: (labels: Record<L, string>, v: number) => void) => void,
    ) => {
      const config = { name, help, labelNames, registers };
      if (Type === Gauge) {
        new Gauge<L>({
          ...config,
          async collect() {
            const s = await read();
            this.reset();
            if (s) fill(s, (labels, v) => this.set(labels, v));
          },
        });
      } else {
        // A stored total: the counter is rewritten with the database's sum (never an in-memory count).
        new Counter<L>({
          ...config,
          async collect() {
            const s = await read();
            this.reset();
            if (s) fill(s, (labels, v) => this.inc(labels, Math.max(0, v)));
          },
        });
      }
    };

    new Gauge({
      name: "stratavore_database_up",
      help: "1 when the last scrape could read the database, else 0.",
      registers,
      async collect() {
        this.set((await read()) ? 1 : 0);
      },
    });
    fromDb(Gauge, "stratavore_runners", "Runners in each state (ended ones as kept in the database).", [
      "status",
    ], (s, put) => {
      for (const [status, n] of Object.entries(s.runners)) put({ status }, n);
    });
    fromDb(
      Gauge,
      "stratavore_runners_by_project",
      'Active runners (starting, running, stopping) per project; projects past the first 100 are summed as "_other".',
      ["project"],
      (s, put) => {
        for (const [project, n] of s.activeByProject) put({ project }, n);
      },
    );
    fromDb(Counter, "stratavore_sessions_total", "Claude Code sessions recorded.", [], (s, put) => {
      put({}, s.sessions);
    });
    fromDb(
      Counter,
      "stratavore_tokens_used_total",
      'Tokens booked from transcripts, by kind; scope="global" is the sum, scope="project" one series per project.',
      ["scope", "project", "kind"],
      (s, put) => {
        for (const [kind, key] of KINDS) {
          put({ scope: "global", kind } as Record<"scope" | "project" | "kind", string>, s.tokensGlobal[key]);
          for (const [project, t] of s.tokensByProject) put({ scope: "project", project, kind }, t[key]);
        }
      },
    );
    fromDb(
      Counter,
      "stratavore_token_cost_usd_total",
      "Cost in US dollars of the booked usage: Claude Code's own figures where it reported them, else estimated " +
        "from the price table (same scopes as stratavore_tokens_used_total).",
      ["scope", "project"],
      (s, put) => {
        put({ scope: "global" } as Record<"scope" | "project", string>, s.tokensGlobal.costUsd);
        for (const [project, t] of s.tokensByProject) put({ scope: "project", project }, t.costUsd);
      },
    );
    fromDb(
      Counter,
      "stratavore_token_cost_reported_usd_total",
      "The part of stratavore_token_cost_usd_total that Claude Code reported itself (telemetry, result events).",
      ["scope", "project"],
      (s, put) => {
        put({ scope: "global" } as Record<"scope" | "project", string>, s.tokensGlobal.reportedUsd);
        for (const [project, t] of s.tokensByProject) put({ scope: "project", project }, t.reportedUsd);
      },
    );
    fromDb(
      Gauge,
      "stratavore_usage_disagreements",
      "Sessions with no active runner whose transcript token counts differ from what Claude Code reported.",
      [],
      (s, put) => put({}, s.usageDisagreements),
    );
    fromDb(
      Gauge,
      "stratavore_outbox_pending",
      "Events waiting in the outbox to be published.",
      [],
      (s, put) => put({}, s.outboxPending),
    );
    fromDb(
      Gauge,
      "stratavore_outbox_dead",
      "Dead-lettered events (refused until they ran out of attempts).",
      [],
      (
        s,
        put,
      ) => put({}, s.outboxDead),
    );
    fromDb(
      Gauge,
      "stratavore_outbox_oldest_pending_age_seconds",
      "Age of the oldest event still waiting to be published (0 when none waits).",
      [],
      (s, put) => put({}, s.outboxOldestPendingSeconds),
    );
    fromDb(
      Counter,
      "stratavore_notifications_sent_total",
      'Telegram notifications by outcome: result="sent", or "failed" after the last attempt.',
      ["result"],
      (s, put) => {
        put({ result: "sent" }, s.notifications.sent);
        put({ result: "failed" }, s.notifications.failed);
      },
    );
    fromDb(
      Gauge,
      "stratavore_limit_utilization",
      "Subscription window used (0 to 1) per account (its Claude login, else config folder) and window " +
        "(five_hour, seven_day), as Claude Code last reported it; 0 once the window has reset.",
      ["account", "window"],
      (s, put) => {
        for (const a of s.limits) {
          for (const w of a.windows) put({ account: a.key, window: w.window }, w.utilization);
        }
      },
    );
    fromDb(
      Gauge,
      "stratavore_limit_seconds_to_reset",
      "Seconds until the subscription window resets (0 once it has).",
      ["account", "window"],
      (s, put) => {
        for (const a of s.limits) {
          for (const w of a.windows) {
            if (w.secondsToReset !== null) put({ account: a.key, window: w.window }, w.secondsToReset);
          }
        }
      },
    );
    fromDb(
      Gauge,
      "stratavore_limit_limited",
      "1 while the subscription window refuses requests (status rejected, reset ahead), else 0.",
      ["account", "window"],
      (s, put) => {
        for (const a of s.limits) {
          for (const w of a.windows) put({ account: a.key, window: w.window }, w.limited ? 1 : 0);
        }
      },
    );
    fromDb(
      Gauge,
      "stratavore_limit_queue",
      'Launches (kind="launch") and cut-off runs to continue (kind="resume") waiting for a reset.',
      ["kind"],
      (s, put) => {
        put({ kind: "launch" }, s.limitQueue.launch);
        put({ kind: "resume" }, s.limitQueue.resume);
      },
    );
    fromDb(
      Gauge,
      "stratavore_notifications_pending",
      "Telegram notifications queued and not yet sent (waiting, or retrying).",
      [],
      (s, put) => put({}, s.notifications.pending),
    );
  }
}
