/**
 * The event envelope: what RabbitMQ consumers, the SSE stream and integrations receive. Versioned; new
 * fields may be added, existing ones keep their meaning. See docs/events.md.
 */
import { z } from "zod";
import { GLOB_LIMITS, globListMatcher, globListProblem } from "../glob.ts";

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

/** `runner.*,budget.warning` → a test on event types (`*` matches any run of characters), in linear time. */
export const typeFilter = globListMatcher;

/** An event-type filter as given in a query or setting: the syntax, and the caps that keep matching cheap. */
export const typeFilterText = z.string().max(GLOB_LIMITS.patterns * (GLOB_LIMITS.length + 1)).superRefine(
  (v, ctx) => {
    const problem = globListProblem(v);
    if (problem) ctx.addIssue({ code: "custom", message: problem });
  },
);
