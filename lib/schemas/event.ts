/**
 * The event envelope: what RabbitMQ consumers, the SSE stream and integrations receive. Versioned; new
 * fields may be added, existing ones keep their meaning. See docs/events.md.
 */
import { z } from "zod";

export const EVENT_VERSION = 1;

export const eventEnvelope = z.object({
  version: z.literal(EVENT_VERSION),
  /** The outbox id: unique per event, also the AMQP message_id. Consumers de-duplicate on it. */
  id: z.number(),
  /** Position in the published order (the SSE event id; resume with Last-Event-ID). */
  seq: z.number().nullable(),
  /** `<entity>.<event>`, also the routing key: runner.started, budget.warning… */
  type: z.string(),
  occurredAt: z.string(),
  entityId: z.string(),
  project: z.string().nullable(),
  payload: z.record(z.string(), z.unknown()),
});
export type EventEnvelope = z.infer<typeof eventEnvelope>;

export const eventList = z.object({ events: z.array(eventEnvelope) });

export const deadEvent = z.object({
  id: z.number(),
  type: z.string(),
  entityId: z.string(),
  project: z.string().nullable(),
  attempts: z.number(),
  lastError: z.string().nullable(),
  createdAt: z.string(),
  deadAt: z.string(),
});
export type DeadEvent = z.infer<typeof deadEvent>;

export const deadList = z.object({ events: z.array(deadEvent), total: z.number() });

/** `runner.*,budget.warning` → a test on event types (`*` matches any run of characters). */
export function typeFilter(spec: string | undefined): (type: string) => boolean {
  const parts = (spec ?? "").split(",").map((s) => s.trim()).filter(Boolean);
  if (parts.length === 0) return () => true;
  const res = parts.map((p) =>
    new RegExp("^" + p.replace(/[.+?^${}()|[\]\\]/g, "\\$&").replace(/\*/g, ".*") + "$")
  );
  return (type) => res.some((re) => re.test(type));
}

export const TYPE_FILTER_RE = /^[a-z0-9_.*]+(,[a-z0-9_.*]+)*$/;
