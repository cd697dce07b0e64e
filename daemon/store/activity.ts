/** What Claude Code's hooks say about a running session: busy, waiting for input, or idle. */
import type { Queryable } from "../../lib/db/types.ts";
import type { Activity, HookRequest, Runner } from "../../lib/schemas/runner.ts";
import { isActive } from "../runner_states.ts";
import { emit } from "./outbox.ts";
import { getRunner } from "./runners.ts";

/** The activity a hook event implies; undefined when the event says nothing about it. */
export function activityFor(h: HookRequest): { activity: Activity; detail: string | null } | undefined {
  switch (h.event) {
    case "user-prompt-submit":
      return { activity: "busy", detail: null };
    case "stop":
      return { activity: "idle", detail: "turn finished" };
    case "session-start":
      return { activity: "idle", detail: h.source ?? null };
    case "notification":
      if (h.notificationType === "idle_prompt" || h.notificationType === "permission_prompt") {
        return { activity: "waiting_for_input", detail: h.notificationType };
      }
      return undefined;
    default:
      return undefined;
  }
}

/**
 * Records a hook report: the session id it names, and the activity it implies. A change of activity is
 * an event (runner.activity), so dashboards and Telegram learn that a session waits for its user.
 */
export async function recordHook(tx: Queryable, runnerId: number, h: HookRequest): Promise<Runner> {
  const current = await getRunner(tx, runnerId, true);
  if (!isActive(current.state)) return current;
  const next = activityFor(h);
  if (h.sessionId && h.sessionId !== current.sessionId) {
    await tx.query("UPDATE runners SET session_id = $2, updated_at = now() WHERE id = $1", [
      runnerId,
      h.sessionId,
    ]);
  }
  if (!next || (next.activity === current.activity && next.detail === current.activityDetail)) {
    return h.sessionId && h.sessionId !== current.sessionId ? await getRunner(tx, runnerId) : current;
  }
  await tx.query(
    "UPDATE runners SET activity = $2, activity_detail = $3, activity_at = now(), updated_at = now() WHERE id = $1",
    [runnerId, next.activity, next.detail],
  );
  const runner = await getRunner(tx, runnerId);
  await emit(tx, {
    type: "runner.activity",
    entityId: runnerId,
    project: runner.project,
    payload: {
      runner,
      activity: next.activity,
      detail: next.detail,
      message: h.message ?? null,
      hook: h.event,
    },
  });
  return runner;
}
