/**
 * Messages for a running agent, decided in a transaction (a stop, a kill): sent as a NOTIFY that leaves at
 * commit (and never, when the transaction rolls back), heard by every daemon on the database; the daemon
 * holding that runner's agent link passes it on (daemon/link/links.ts). PostgreSQL keeps one copy of
 * identical notifications per transaction, so repeating one costs nothing.
 */
import type { Queryable } from "../../lib/db/types.ts";
import type { LinkNotice, ToAgentMessage } from "../../lib/schemas/link.ts";

export const LINK_CHANNEL = "stratavore_agent_link";

export async function tellAgent(tx: Queryable, runnerId: number, message: ToAgentMessage): Promise<void> {
  // A NOTIFY payload must stay under 8000 bytes: a long reason (up to 2000 characters) is cut for the agent,
  // which only logs it.
  const short = "reason" in message && message.reason && message.reason.length > 500
    ? { ...message, reason: message.reason.slice(0, 500) + "…" }
    : message;
  const notice: LinkNotice = { runner: runnerId, message: short };
  await tx.query("SELECT pg_notify($1, $2)", [LINK_CHANNEL, JSON.stringify(notice)]);
}
