/** Writing events: every state change calls emit() inside its own transaction (the transactional outbox). */
import type { Queryable } from "../../lib/db/types.ts";

export const OUTBOX_CHANNEL = "stratavore_outbox";

export interface EventInput {
  /** `<entity>.<event>`, also the RabbitMQ routing key: runner.started, budget.warning… */
  type: string;
  entityId: string | number;
  project?: string | null;
  /** Events sharing a key are delivered in commit order; defaults to `<entity>:<entityId>`. */
  orderingKey?: string;
  payload: Record<string, unknown>;
}

export async function emit(tx: Queryable, ev: EventInput): Promise<number> {
  const entity = ev.type.split(".")[0];
  const [row] = await tx.query<{ id: number }>(
    `INSERT INTO outbox (type, entity_id, project, ordering_key, payload)
     VALUES ($1, $2, $3, $4, $5::jsonb) RETURNING id`,
    [
      ev.type,
      String(ev.entityId),
      ev.project ?? null,
      ev.orderingKey ?? `${entity}:${ev.entityId}`,
      ev.payload,
    ],
  );
  // PostgreSQL folds identical notifications in one transaction into one, so this costs one per commit.
  await tx.query(`SELECT pg_notify('${OUTBOX_CHANNEL}', '')`);
  return row.id;
}
