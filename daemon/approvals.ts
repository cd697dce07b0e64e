/**
 * Answering a permission request from anywhere (API, CLI, web, Telegram): one place that answers it, writes
 * the audit row (who, through what, from where) and leaves the rest to the store (event, NOTIFY).
 */
import type { Db } from "../lib/db/types.ts";
import type { PermissionAnswer, PermissionRequest } from "../lib/schemas/runner.ts";
import { type Answerer, answerPermission } from "./store/permissions.ts";
import { recordAudit } from "./store/audit.ts";

export async function answerFromAnywhere(
  db: Db,
  runnerId: number,
  answer: PermissionAnswer,
  who: Answerer,
  remoteAddr: string | null,
): Promise<PermissionRequest> {
  return await db.transaction(async (tx) => {
    const request = await answerPermission(tx, runnerId, answer, who);
    await recordAudit(tx, {
      actor: who.by,
      action: `permission.${answer.decision}`,
      target: `runner:${runnerId}`,
      details: {
        request: request.id,
        tool: request.tool,
        summary: request.summary,
        channel: who.channel,
        message: answer.message ?? null,
      },
      remoteAddr,
    });
    return request;
  });
}
