/**
 * Claude Code specifics of the command line: is the command claude, which session will it write, and the
 * arguments the agent adds (a pinned --session-id for new sessions, --settings with our hooks). What the
 * command line is before that (project defaults, extra arguments, headless flags) is lib/command_line.ts.
 */

import { isClaude } from "../lib/claude/command.ts";
export { isClaude };

function valueOf(args: string[], ...names: string[]): string | undefined {
  for (let i = 0; i < args.length; i++) {
    for (const n of names) {
      if (args[i] === n && i + 1 < args.length && !args[i + 1].startsWith("-")) return args[i + 1];
      if (args[i].startsWith(n + "=")) return args[i].slice(n.length + 1);
    }
  }
  return undefined;
}

const has = (args: string[], ...names: string[]) =>
  args.some((a) => names.includes(a) || names.some((n) => a.startsWith(n + "=")));

export interface SessionPlan {
  /** The session the command will write, when it can be known up front. */
  sessionId?: string;
  /** Arguments to add before the user's. */
  extraArgs: string[];
  /** The user gave their own --settings: our hooks cannot be added (Claude takes one settings file). */
  ownSettings: boolean;
  /** The session already exists (--resume <id>): its earlier turns belong to earlier runners. */
  resumed?: boolean;
}

const UUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/**
 * A new session gets a pinned id so its transcript file is known at once; `--resume <id>` continues that
 * session; `--continue` or a bare `--resume` (a picker) leave it to be discovered from the transcripts.
 */
export function planSession(args: string[], newId: () => string = () => crypto.randomUUID()): SessionPlan {
  const ownSettings = has(args, "--settings");
  const given = valueOf(args, "--session-id");
  if (given) return { sessionId: given, extraArgs: [], ownSettings };
  const resumed = valueOf(args, "--resume", "-r");
  if (resumed && UUID_RE.test(resumed)) {
    const fork = has(args, "--fork-session");
    return { sessionId: fork ? undefined : resumed, extraArgs: [], ownSettings, resumed: !fork };
  }
  if (has(args, "--resume", "-r", "--continue", "-c")) return { extraArgs: [], ownSettings };
  const id = newId();
  return { sessionId: id, extraArgs: ["--session-id", id], ownSettings };
}
