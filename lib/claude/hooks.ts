/**
 * Claude Code hooks: the settings that make Claude Code report its lifecycle to Stratavore, and the answers
 * the daemon gives (the JSON Claude Code sends is lib/schemas/hook_input.ts's; this module loads no zod, as
 * the agent imports it). Hooks reach the daemon as Claude Code `http` hooks (no process is started per
 * event); `SessionStart`, which Claude Code runs only as a command, appends its JSON to a file the agent
 * follows (a shell `cat`, not a Deno start).
 */
/** The events posted to the daemon. Claude Code refuses http hooks for SessionStart (and Setup). */
export const HTTP_HOOK_EVENTS = [
  "UserPromptSubmit",
  "PreToolUse",
  "PostToolUse",
  "PostToolUseFailure",
  "PermissionRequest",
  "PermissionDenied",
  "Notification",
  "Stop",
  "StopFailure",
  "PreCompact",
  "PostCompact",
  "SessionEnd",
] as const;
export type HttpHookEvent = typeof HTTP_HOOK_EVENTS[number];

/** The daemon's endpoints for hook posts: a runner's own, and the one for sessions it did not launch. */
export const runnerHookPath = (runnerId: number) => `/api/v1/runners/${runnerId}/claude-hook`;
export const OBSERVED_HOOK_PATH = "/api/v1/observed/claude-hook";

/** Set in the sessions a runner starts, so the machine-wide (observer) hooks can tell them apart. */
export const RUNNER_ENV = "STRATAVORE_RUNNER_ID";

export interface CommandHook {
  type: "command";
  command: string;
  timeout?: number;
}

export interface HttpHook {
  type: "http";
  url: string;
  headers: Record<string, string>;
  allowedEnvVars?: string[];
  /** Seconds Claude Code waits for the answer. */
  timeout: number;
}

export interface HookMatcher {
  matcher: string;
  hooks: (CommandHook | HttpHook)[];
}

export interface HookSettings {
  hooks: Record<string, HookMatcher[]>;
}

/** Claude Code's hook timeout for everything but PermissionRequest (which waits for a remote answer). */
const SHORT_TIMEOUT_S = 5;

/** POSIX sh: single quotes keep everything literal; a `'` is closed, escaped and reopened. */
export function quotePosix(arg: string): string {
  return `'${arg.replaceAll("'", `'\\''`)}'`;
}

/**
 * The SessionStart command: Claude Code's JSON appended as one line to the agent's events file. Claude Code
 * runs hook commands with a POSIX shell (Git Bash on Windows), so this form serves every system.
 */
export function sessionStartCommand(eventsFile: string): string {
  const f = quotePosix(eventsFile.replaceAll("\\", "/"));
  return `{ cat; echo; } >> ${f}`;
}

function httpHooks(
  url: string,
  headers: Record<string, string>,
  permissionTimeoutS: number,
  allowedEnvVars?: string[],
): Record<string, HookMatcher[]> {
  const hooks: Record<string, HookMatcher[]> = {};
  for (const event of HTTP_HOOK_EVENTS) {
    hooks[event] = [{
      matcher: "",
      hooks: [{
        type: "http",
        url,
        headers,
        ...(allowedEnvVars ? { allowedEnvVars } : {}),
        // PermissionRequest may wait for an answer from elsewhere; the dialog is on screen meanwhile.
        timeout: event === "PermissionRequest"
          ? Math.max(SHORT_TIMEOUT_S, permissionTimeoutS + 5)
          : SHORT_TIMEOUT_S,
      }],
    }];
  }
  return hooks;
}

/**
 * Hooks for a session a runner starts: every event posted to the runner's endpoint with its token (written
 * into the settings file, which only its owner can read), SessionStart appended to the events file.
 */
export function runnerHookSettings(o: {
  url: string;
  runnerId: number;
  token: string;
  eventsFile: string;
  permissionTimeoutS: number;
}): HookSettings {
  const hooks = httpHooks(
    `${o.url.replace(/\/+$/, "")}${runnerHookPath(o.runnerId)}`,
    { Authorization: `Bearer ${o.token}` },
    o.permissionTimeoutS,
  );
  hooks.SessionStart = [{
    matcher: "",
    hooks: [{ type: "command", command: sessionStartCommand(o.eventsFile), timeout: SHORT_TIMEOUT_S }],
  }];
  return { hooks };
}

/**
 * Machine-wide hooks (`stratavore hooks install`): every Claude session posts to the observer endpoint
 * with the observer token; a session a runner started says so through the runner id it carries in its
 * environment (empty elsewhere), so the daemon counts it once.
 */
export function observerHookSettings(
  o: { url: string; token: string; permissionTimeoutS: number },
): HookSettings {
  return {
    hooks: httpHooks(
      `${o.url.replace(/\/+$/, "")}${OBSERVED_HOOK_PATH}`,
      { Authorization: `Bearer ${o.token}`, "X-Stratavore-Runner": `$${RUNNER_ENV}` },
      o.permissionTimeoutS,
      [RUNNER_ENV],
    ),
  };
}

/** A hook's answer that lets or refuses a permission request for the user (Claude Code's shape). */
export function permissionDecision(behavior: "allow" | "deny", message?: string): Record<string, unknown> {
  return {
    hookSpecificOutput: {
      hookEventName: "PermissionRequest",
      decision: behavior === "allow"
        ? { behavior }
        : { behavior, message: message ?? "denied through Stratavore" },
    },
  };
}

/** A UserPromptSubmit answer that refuses the prompt, with the reason shown in the session. */
export function blockPrompt(reason: string): Record<string, unknown> {
  return { decision: "block", reason };
}

/**
 * The agent's environment names: what it gives the sessions it starts (the runner; the file SessionStart
 * appends to) and how the daemon hands a spawned agent its runner token (kept out of the process list, and
 * out of the session's environment: the hooks carry it in their settings file).
 */
export const HOOK_ENV = {
  runner: RUNNER_ENV,
  events: "STRATAVORE_AGENT_EVENTS",
  token: "STRATAVORE_RUNNER_TOKEN",
} as const;
