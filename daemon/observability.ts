/**
 * Metrics, Telegram notifications and the event log lines, wired to the daemon through the hooks it
 * offers: the relay's onDelivered/onBatch and the app's onRequest. main.ts creates this before the
 * relay starts and starts it once the API listens.
 */
import type { Queryable } from "../lib/db/types.ts";
import type { EventEnvelope } from "../lib/schemas/event.ts";
import type { EventHooks } from "./events.ts";
import { Metrics } from "./metrics/mod.ts";
import { createNotifier, type Notifier } from "./notify/mod.ts";
import type { Services } from "./services.ts";

export interface Observability {
  eventHooks: EventHooks;
  onRequest: (route: string, method: string, status: number, seconds: number) => void;
  /** The OTLP receiver's hook: one export ingested. */
  onTelemetry: (signal: "metrics" | "logs", accepted: number, rejected: number, seconds: number) => void;
  /** What /api/v1/metrics and /api/v1/notify serve (daemon/routes/mod.ts). */
  metrics: Metrics;
  notifier: Notifier;
  /** Serves /metrics and starts the notification sender (and bot commands); returns the metrics URL. */
  start(): Promise<string | undefined>;
  /** Sends due notifications for up to flushMs, then stops everything. */
  stop(flushMs: number): Promise<void>;
}

export function createObservability(s: Services): Observability {
  const metrics = new Metrics({
    db: s.db,
    log: s.log.child({ component: "metrics" }),
    startedAt: s.startedAt,
    database: s.db.kind,
    broker: () => s.broker.kind,
  });
  const notifier = createNotifier(s);
  const eventLog = s.log.child({ component: "events" });
  let delivered: EventEnvelope[] = [];

  return {
    eventHooks: {
      async onDelivered(tx: Queryable, events: EventEnvelope[]) {
        delivered = events;
        metrics.noteDelivered(events);
        await notifier.onDelivered(tx, events);
      },
      onBatch(stats) {
        metrics.onBatch(stats);
        const events = delivered;
        delivered = [];
        if (stats.published > 0) { for (const ev of events) logEvent(ev); }
      },
    },
    onRequest: metrics.onRequest,
    onTelemetry(signal, accepted, rejected, seconds) {
      metrics.m.telemetryPoints.inc({ signal, result: "accepted" }, accepted);
      if (rejected) metrics.m.telemetryPoints.inc({ signal, result: "rejected" }, rejected);
      metrics.m.telemetryDuration.observe({ signal }, seconds);
    },
    metrics,
    notifier,
    async start() {
      const url = metrics.serve(s.config.metricsListen, s.config.allowedHosts);
      await notifier.start();
      return url;
    },
    async stop(flushMs) {
      await notifier.stop(flushMs);
      await metrics.stop();
    },
  };

  /** One line per published state change, carrying the runner and project it concerns. */
  function logEvent(ev: EventEnvelope): void {
    if (ev.type.startsWith("daemon.") || ev.type === "event.dead_lettered") return; // logged where they happen
    const r = ev.payload.runner as { id?: number; state?: string; reason?: string | null } | undefined;
    const log = eventLog.child({
      ...(r?.id !== undefined ? { runner: r.id } : {}),
      ...(ev.project ? { project: ev.project } : {}),
    });
    const fields = {
      event: ev.id,
      state: r?.state,
      reason: r?.reason ?? undefined,
      activity: ev.payload.activity,
      message: typeof ev.payload.message === "string" ? ev.payload.message : undefined,
    };
    if (ev.type === "runner.activity") log.debug(ev.type, fields);
    else log.info(ev.type, fields);
  }
}
