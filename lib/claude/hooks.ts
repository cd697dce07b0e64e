/**
 * Claude Code hooks: the settings object (given to `claude --settings <file>`) that makes Claude Code run
 * our command on lifecycle events, and the parser for the JSON it pipes to that command on stdin.
 */
import { z } from "zod";

/** The events Stratavore follows: start/end, a prompt being submitted, a turn ending, idle/permission prompts. */
export const HOOK_EVENTS = [
  "SessionStart",
  "SessionEnd",
  "UserPromptSubmit",
  "Stop",
  "Notification",
] as const;

export type HookEvent = typeof HOOK_EVENTS[number];

export interface CommandHook {
  type: "command";
  command: string;
}

export interface HookMatcher {
  matcher: string;
  hooks: CommandHook[];
}

export interface HookSettings {
  hooks: Record<HookEvent, HookMatcher[]>;
}

/** `UserPromptSubmit` → `user-prompt-submit`: the argument our hook command receives. */
export function hookEventArg(event: string): string {
  return event.replace(/([a-z0-9])([A-Z])/g, "$1-$2").toLowerCase();
}

/** POSIX sh: single quotes keep everything literal; a `'` is closed, escaped and reopened. */
function quotePosix(arg: string): string {
  return `'${arg.replaceAll("'", `'\\''`)}'`;
}

/**
 * Windows: double quotes following the CommandLineToArgvW rules (backslashes are doubled only before a
 * quote or the closing quote). These read the same under cmd.exe and Git Bash for ordinary paths; `"`
 * cannot occur in Windows file names, and `%VAR%` would still be expanded by cmd.exe.
 */
function quoteWindows(arg: string): string {
  let out = '"';
  let slashes = 0;
  for (const ch of arg) {
    if (ch === "\\") {
      slashes++;
      continue;
    }
    out += ch === '"' ? "\\".repeat(slashes * 2 + 1) + '"' : "\\".repeat(slashes) + ch;
    slashes = 0;
  }
  return out + "\\".repeat(slashes * 2) + '"';
}

export function quoteArg(arg: string, os: typeof Deno.build.os = Deno.build.os): string {
  return os === "windows" ? quoteWindows(arg) : quotePosix(arg);
}

/** The shell command line run for one event: every word quoted, the kebab-case event name last. */
export function hookCommandLine(
  hookCommand: string[],
  event: HookEvent,
  os: typeof Deno.build.os = Deno.build.os,
): string {
  return [...hookCommand, hookEventArg(event)].map((a) => quoteArg(a, os)).join(" ");
}

/**
 * Settings registering `hookCommand <event>` for every event in HOOK_EVENTS. The empty matcher matches
 * every source, reason and notification type.
 */
export function hookSettings(hookCommand: string[], os: typeof Deno.build.os = Deno.build.os): HookSettings {
  if (hookCommand.length === 0) throw new Error("hookSettings: the hook command is empty");
  const hooks = {} as Record<HookEvent, HookMatcher[]>;
  for (const event of HOOK_EVENTS) {
    hooks[event] = [{
      matcher: "",
      hooks: [{ type: "command", command: hookCommandLine(hookCommand, event, os) }],
    }];
  }
  return { hooks };
}

/** What Claude Code writes to a hook's stdin; fields we do not use are kept (Claude Code adds new ones). */
export const hookInputSchema = z.looseObject({
  session_id: z.string().min(1),
  transcript_path: z.string(),
  cwd: z.string(),
  hook_event_name: z.string().min(1),
  /** Notification: `idle_prompt`, `permission_prompt`, `auth_success`, … */
  notification_type: z.string().optional(),
  message: z.string().optional(),
  /** SessionStart: `startup`, `resume`, `clear`, `compact`. */
  source: z.string().optional(),
  /** SessionEnd: `clear`, `logout`, `prompt_input_exit`, `other`, … */
  reason: z.string().optional(),
});

export type HookInput = z.infer<typeof hookInputSchema>;

/** Parses a hook's stdin; throws an Error with a one-line message naming what is wrong. */
export function parseHookInput(text: string): HookInput {
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (e) {
    throw new Error(`hook input is not JSON: ${(e as Error).message}`);
  }
  const result = hookInputSchema.safeParse(data);
  if (!result.success) {
    const problems = result.error.issues.map((i) => `${i.path.join(".") || "(root)"}: ${i.message}`);
    throw new Error(`hook input is invalid: ${problems.join("; ")}`);
  }
  return result.data;
}
