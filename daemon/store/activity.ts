/** What Claude Code's hooks say about a running session: busy, waiting for its user, idle, error, … */
import type { Queryable } from "../../lib/db/types.ts";
import type { HookInput } from "../../lib/schemas/hook_input.ts";
import type { Activity, Runner } from "../../lib/schemas/runner.ts";
import { isActive } from "../../lib/runner_states.ts";
import { emit } from "./outbox.ts";
import { getRunner } from "./runners.ts";

/** Tools whose call asks the user something (answered in the session): waiting for input, not busy. */
const QUESTION_TOOLS = new Set(["AskUserQuestion"]);
/** Notifications that mean the session waits for its user. */
const WAITING_NOTIFICATIONS = new Set(["permission_prompt", "idle_prompt", "elicitation_dialog"]);

/** The activity a hook implies; undefined when it says nothing about it. */
export function activityFor(h: HookInput): { activity: Activity; detail: string | null } | undefined {
  switch (h.hook_event_name) {
    case "UserPromptSubmit":
      return { activity: "busy", detail: null };
    case "PreToolUse":
      if (h.tool_name && QUESTION_TOOLS.has(h.tool_name)) {
        return { activity: "waiting_for_input", detail: "question" };
      }
      return { activity: "busy", detail: h.tool_name ?? null };
    case "PostToolUse":
    case "PostToolUseFailure":
    case "PermissionDenied":
      return { activity: "busy", detail: null };
    case "PostCompact":
      // An automatic compaction happens mid-turn, which goes on; after /compact the session waits for its
      // user, and no Stop follows.
      return h.trigger === "manual"
        ? { activity: "idle", detail: "compacted" }
        : { activity: "busy", detail: null };
    case "PermissionRequest":
      return { activity: "waiting_for_input", detail: `permission: ${h.tool_name ?? "tool"}` };
    case "Notification":
      if (h.notification_type && WAITING_NOTIFICATIONS.has(h.notification_type)) {
        return { activity: "waiting_for_input", detail: h.notification_type };
      }
      return undefined;
    case "Stop":
      return { activity: "idle", detail: "turn finished" };
    case "StopFailure":
      return { activity: "error", detail: errorText(h.error) };
    case "PreCompact":
      return { activity: "compacting", detail: null };
    case "SessionStart":
      return { activity: "idle", detail: h.source ?? null };
    case "SessionEnd":
      // /clear ends one session and starts the next in the same process.
      return h.reason === "clear" ? undefined : { activity: "ended", detail: h.reason ?? null };
    default:
      return undefined;
  }
}

/** Events after which a permission dialog that was open has been answered (in the terminal, if not elsewhere). */
export const SETTLES_PERMISSIONS = new Set([
  "PostToolUse",
  "PostToolUseFailure",
  "PermissionDenied",
  "Stop",
  "StopFailure",
  "UserPromptSubmit",
  "SessionEnd",
]);

/**
 * The activity a hook brings to a runner as it is now. SessionStart reaches the daemon late (Claude Code
 * runs it only as a command hook, which the agent forwards from a file, after the hooks posted meanwhile):
 * for the session the runner already follows, it is news only before any other hook; arriving after the
 * turn's Stop or a Notification, its "idle" would overwrite what came later. After a compaction PostCompact
 * says what follows (idle after /compact, busy mid-turn), and SessionStart "compact" races it: Claude Code
 * 2.1.328 was seen to send them in either order.
 */
export function hookActivity(
  h: HookInput,
  runner: { sessionId: string | null; activity: Activity | null },
): { activity: Activity; detail: string | null } | undefined {
  if (h.hook_event_name === "SessionStart" && h.session_id === runner.sessionId && runner.activity !== null) {
    return undefined;
  }
  return activityFor(h);
}

function errorText(e: unknown): string | null {
  if (typeof e === "string") return e.slice(0, 200);
  if (e && typeof e === "object") {
    const o = e as Record<string, unknown>;
    const t = [o.type, o.error_type, o.message].filter((x) => typeof x === "string").join(": ");
    return t ? t.slice(0, 200) : JSON.stringify(e).slice(0, 200);
  }
  return null;
}

/**
 * Records a hook: the session it names (followed across /clear and resume) and the activity it implies. A
 * change of activity is an event (runner.activity), so dashboards and Telegram learn at once that a session
 * waits for its user.
 */
export async function recordHook(tx: Queryable, runnerId: number, h: HookInput): Promise<Runner> {
  const current = await getRunner(tx, runnerId, true);
  if (!isActive(current.state)) return current;
  const next = hookActivity(h, current);
  const newSession = h.session_id !== current.sessionId;
  if (newSession) {
    await tx.query("UPDATE runners SET session_id = $2, updated_at = now() WHERE id = $1", [
      runnerId,
      h.session_id,
    ]);
  }
  if (!next || (next.activity === current.activity && next.detail === current.activityDetail)) {
    return newSession ? await getRunner(tx, runnerId) : current;
  }
  return await setActivity(tx, runnerId, next, {
    message: typeof h.message === "string" ? h.message.slice(0, 2000) : null,
    hook: h.hook_event_name,
  });
}

/**
 * A permission dialog answered in the terminal (Claude Code closed the held hook): Escape sends no hook at
 * all, so without this the runner would wait for input on a dialog that is gone. "Yes" runs the tool, whose
 * PostToolUse makes the session busy a moment later.
 */
export async function permissionSettledInTerminal(tx: Queryable, runnerId: number): Promise<void> {
  const current = await getRunner(tx, runnerId, true);
  if (
    !isActive(current.state) || current.activity !== "waiting_for_input" ||
    !current.activityDetail?.startsWith("permission:")
  ) {
    return;
  }
  await setActivity(tx, runnerId, { activity: "idle", detail: "permission answered in the terminal" }, {
    message: null,
    hook: null,
  });
}

/** Records a change of activity and its event (runner.activity). */
async function setActivity(
  tx: Queryable,
  runnerId: number,
  next: { activity: Activity; detail: string | null },
  cause: { message: string | null; hook: string | null },
): Promise<Runner> {
  await tx.query(
    "UPDATE runners SET activity = $2, activity_detail = $3, activity_at = now(), updated_at = now() WHERE id = $1",
    [runnerId, next.activity, next.detail],
  );
  const runner = await getRunner(tx, runnerId);
  await emit(tx, {
    type: "runner.activity",
    entityId: runnerId,
    project: runner.project,
    payload: { runner, activity: next.activity, detail: next.detail, ...cause },
  });
  return runner;
}
