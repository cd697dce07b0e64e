/**
 * Which events notify, at which priority, and with what text. Texts are written as plain sentences and
 * escaped for MarkdownV2 once, at the end; each starts with its priority's mark.
 */
import type { EventEnvelope } from "../../lib/schemas/event.ts";
import { formatSpan } from "../../lib/format.ts";
import { escapeMarkdown, truncate } from "./markdown.ts";

export const PRIORITIES = ["min", "low", "default", "high", "urgent"] as const;
export type Priority = (typeof PRIORITIES)[number];

/** The leading mark of each priority; min and low are sent silently (no sound on the phone). */
export const MARKS: Record<Priority, string> = {
  min: "▫️",
  low: "ℹ️",
  default: "🔔",
  high: "⚠️",
  urgent: "🚨",
};

export function rank(p: Priority): number {
  return PRIORITIES.indexOf(p);
}

export function isSilent(p: Priority): boolean {
  return rank(p) < rank("default");
}

export function asPriority(p: string): Priority {
  return (PRIORITIES as readonly string[]).includes(p) ? p as Priority : "default";
}

/** An inline button under a message; `data` comes back in the callback query when it is pressed. */
export interface Button {
  text: string;
  data: string;
}

/** What an event says to a person: a priority and one plain sentence (or a few lines), maybe buttons. */
export interface Notice {
  priority: Priority;
  text: string;
  buttons?: Button[];
}

/** Callback data of an approval button: `perm:<request id>:allow|deny`. */
export const PERMISSION_CALLBACK = /^perm:(\d{1,15}):(allow|deny)$/;

/** One notification's longest text; a digest of several stays under Telegram's 4096 characters. */
const MAX_TEXT = 1000;
export const MAX_MESSAGE = 4000;

export function render(n: Notice): string {
  return `${MARKS[n.priority]} ${escapeMarkdown(truncate(n.text, MAX_TEXT))}`;
}

/** One message for several notifications (already rendered), marked with the highest priority. */
export function renderDigest(items: { priority: Priority; text: string }[]): string {
  const top = items.reduce<Priority>((p, i) => (rank(i.priority) > rank(p) ? i.priority : p), "min");
  return `${MARKS[top]} ${escapeMarkdown(`${items.length} notifications:`)}\n\n${
    items.map((i) => i.text).join("\n")
  }`;
}

interface RunnerPayload {
  id?: number;
  project?: string;
  pid?: number | null;
  host?: string | null;
  reason?: string | null;
  exitCode?: number | null;
  exitSignal?: string | null;
  lastHeartbeatAt?: string | null;
  endedAt?: string | null;
}

const str = (v: unknown): string | undefined => (typeof v === "string" && v ? v : undefined);

/** "2025-05-01 12:00:03 UTC" */
export function utcTime(iso: string): string {
  return iso.slice(0, 19).replace("T", " ") + " UTC";
}

function failedText(who: string, r: RunnerPayload, stale: boolean): string {
  const exit = r.exitCode !== null && r.exitCode !== undefined
    ? `exit code ${r.exitCode}`
    : r.exitSignal
    ? `ended by signal ${r.exitSignal}`
    : "exit code unknown";
  let hb = "no heartbeat received";
  if (r.lastHeartbeatAt) {
    const before = r.endedAt ? Date.parse(r.endedAt) - Date.parse(r.lastHeartbeatAt) : NaN;
    hb = `last heartbeat ${utcTime(r.lastHeartbeatAt)}${
      Number.isFinite(before) ? ` (${formatSpan(before)} before)` : ""
    }`;
  }
  const reason = r.reason && !/^(exited with code|ended by signal)/.test(r.reason) ? `\n${r.reason}` : "";
  return `${who} failed${stale ? " (its agent went silent)" : ""}: ${exit}, ${hb}${reason}`;
}

/** The notice for an event, or undefined when this kind of event never notifies. */
export function describeEvent(ev: EventEnvelope): Notice | undefined {
  const p = ev.payload;
  const runner = (p.runner ?? {}) as RunnerPayload;
  const project = ev.project ?? runner.project;
  const who = `runner ${runner.id ?? ev.entityId}${project ? ` in project ${project}` : ""}`;
  const message = str(p.message);
  switch (ev.type) {
    case "runner.launched":
      return { priority: "min", text: `${who} launched` };
    case "runner.started": {
      const where = runner.pid ? ` (pid ${runner.pid}${runner.host ? ` on ${runner.host}` : ""})` : "";
      return { priority: "low", text: `${who} started${where}` };
    }
    case "runner.stopping":
      return { priority: "min", text: `${who} is stopping${runner.reason ? `: ${runner.reason}` : ""}` };
    case "runner.stopped":
      return { priority: "low", text: `${who} stopped${runner.reason ? `: ${runner.reason}` : ""}` };
    case "runner.killed":
      return { priority: "default", text: `${who} was killed${runner.reason ? `: ${runner.reason}` : ""}` };
    case "runner.failed":
      return { priority: "high", text: failedText(who, runner, p.stale === true) };
    case "runner.activity":
      if (p.activity !== "waiting_for_input") return undefined;
      // The PermissionRequest itself is told by runner.permission_requested (with its buttons), not twice;
      // Claude Code's own permission_prompt notification (6 s later, if still unanswered) is a reminder.
      if (typeof p.detail === "string" && p.detail.startsWith("permission:")) return undefined;
      return { priority: "high", text: `${who} is waiting for your input${message ? `\n${message}` : ""}` };
    case "runner.worktree": {
      // Only a worktree kept for review is news (made and removed ones are not).
      const w = (p.worktree ?? {}) as {
        state?: string;
        branch?: string;
        note?: string | null;
        status?: { ahead?: number; files?: number } | null;
      };
      if (w.state !== "kept") return undefined;
      const held = w.status
        ? `: ${w.status.ahead ?? 0} commit(s), ${w.status.files ?? 0} file(s) changed`
        : "";
      return {
        priority: "low",
        text: `${who}: worktree kept for review (branch ${
          w.branch ?? "?"
        }${held}); see it with stratavore diff ${runner.id ?? ev.entityId}`,
      };
    }
    case "runner.permission_requested": {
      const q = (p.request ?? {}) as { id?: number; runnerId?: number; summary?: string; remote?: boolean };
      const asks = `runner ${q.runnerId ?? ev.entityId}${
        project ? ` in project ${project}` : ""
      } asks permission`;
      return {
        priority: "high",
        text: `${asks}:\n${q.summary ?? "a tool call"}${q.remote ? "" : "\n(answer it in the terminal)"}`,
        buttons: q.remote && q.id
          ? [{ text: "Approve", data: `perm:${q.id}:allow` }, { text: "Deny", data: `perm:${q.id}:deny` }]
          : undefined,
      };
    }
    case "runner.permission_answered": {
      const q = (p.request ?? {}) as {
        runnerId?: number;
        summary?: string;
        status?: string;
        answeredBy?: string;
      };
      const how = q.status === "answered_in_terminal"
        ? "was answered in the terminal"
        : q.status === "expired"
        ? "is no longer waited for remotely (the terminal can still answer it)"
        : `was ${q.status} by ${q.answeredBy ?? "someone"}`;
      return {
        priority: "low",
        text: `runner ${q.runnerId ?? ev.entityId}: ${q.summary ?? "the permission request"} ${how}`,
      };
    }
    case "budget.warning":
      return { priority: "default", text: message ?? `budget ${ev.entityId} reached ${p.threshold}%` };
    case "budget.exceeded":
      return { priority: "urgent", text: message ?? `budget ${ev.entityId} is exhausted` };
    case "budget.set":
    case "budget.removed": {
      // Bookkeeping that the default budget.* glob also matches: min, so not sent by default.
      const name = str((p.budget as { name?: unknown } | undefined)?.name) ?? str(p.name) ?? ev.entityId;
      return { priority: "min", text: `budget ${name} ${ev.type === "budget.set" ? "set" : "removed"}` };
    }
    case "budget.launch_refused":
      return {
        priority: "default",
        text: `launch refused${project ? ` in project ${project}` : ""}: ${message ?? "over budget"}`,
      };
    case "limits.warning":
      return {
        priority: "default",
        text: `${p.windowText ?? p.window} usage window of ${p.label ?? ev.entityId} at ${p.percent}% ` +
          `(threshold ${p.threshold}%)${str(p.resetsAt) ? `, resets ${utcTime(p.resetsAt as string)}` : ""}`,
      };
    case "limits.reached":
      return {
        priority: "high",
        text: `${p.windowText ?? p.window} usage limit of ${p.label ?? ev.entityId} reached` +
          `${str(p.resetsAt) ? `: sessions are limited until ${utcTime(p.resetsAt as string)}` : ""}`,
      };
    case "runner.limited":
      return {
        priority: "high",
        text: `${who} hit the ${p.windowText ?? "usage"} limit: limited until ${
          str(p.limitedUntil) ? utcTime(p.limitedUntil as string) : "the reset"
        }`,
      };
    case "limits.launch_refused":
      return {
        priority: "default",
        text: message ?? `launch refused in project ${ev.entityId}: usage limit`,
      };
    case "limits.launch_queued":
    case "limits.resume_queued":
      return {
        priority: "low",
        text: ev.type === "limits.launch_queued"
          ? `${str(p.reason) ?? "launch queued for the usage limit's reset"}${
            project ? ` (project ${project})` : ""
          }`
          : `runner ${p.runnerId} will be continued after the usage limit resets${
            str(p.notBefore) ? ` (${utcTime(p.notBefore as string)})` : ""
          }`,
      };
    case "limits.launch_started":
    case "limits.resume_started": {
      const r = (p.runner ?? {}) as RunnerPayload;
      return {
        priority: "low",
        text: ev.type === "limits.resume_started"
          ? `runner ${p.resumedFrom} continued after the usage limit reset, as runner ${r.id}`
          : `queued launch started after the usage limit reset: runner ${r.id}${
            project ? ` in project ${project}` : ""
          }`,
      };
    }
    case "limits.resume_skipped":
    case "limits.resume_cancelled":
    case "limits.resume_failed":
    case "limits.launch_failed":
      return {
        priority: "default",
        text: `${ev.type.replace("limits.", "").replace("_", " ")}: ${p.reason ?? ""}`,
      };
    case "project.quota_exceeded":
      return {
        priority: "default",
        text: `launch refused: ${message ?? `project ${ev.entityId} is at its quota`}`,
      };
    case "daemon.started":
      return {
        priority: "low",
        text: `daemon ${ev.entityId} started (version ${p.version ?? "?"}${str(p.url) ? `, ${p.url}` : ""})`,
      };
    case "daemon.stopped":
      return {
        priority: "default",
        text: `daemon ${ev.entityId} stopped${str(p.signal) ? ` (${p.signal})` : ""}`,
      };
    case "event.dead_lettered":
      return {
        priority: "high",
        text: `event ${p.eventId ?? ev.entityId} (${p.eventType ?? "?"}) was dead-lettered after ${
          p.attempts ?? "?"
        } attempts: ${p.error ?? "no error recorded"}`,
      };
    default:
      // A type someone chose with notifyEvents that has no wording of its own.
      return { priority: "default", text: `${ev.type} ${ev.entityId}${message ? `: ${message}` : ""}` };
  }
}
