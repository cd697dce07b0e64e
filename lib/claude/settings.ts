/**
 * Reading the user's own Claude Code settings the way Claude Code layers them (local project settings over
 * shared project settings over the user's), for the few values Stratavore must respect: the user's
 * statusline (which Stratavore's wraps) and `autoContinueAtUsageLimit`.
 */
import { join } from "../path_join.ts";

/** The settings files Claude Code reads for a session in `cwd`, highest precedence first. */
export function settingsFiles(env: Record<string, string | undefined>, home: string, cwd: string): string[] {
  const configDir = (env.CLAUDE_CONFIG_DIR ?? "").split(",")[0].trim() || join(home, ".claude");
  return [
    join(cwd, ".claude", "settings.local.json"),
    join(cwd, ".claude", "settings.json"),
    join(configDir, "settings.json"),
  ];
}

/** The value of a top-level key in the highest-precedence file that sets it. */
export async function settingValue(files: string[], key: string): Promise<unknown> {
  for (const f of files) {
    try {
      const data = JSON.parse(await Deno.readTextFile(f));
      if (data && typeof data === "object" && key in data) return data[key];
    } catch { /* missing or unreadable: the next one */ }
  }
  return undefined;
}

/** The user's statusline command, if they have one. */
export async function userStatusline(
  files: string[],
): Promise<{ command: string; padding?: number } | undefined> {
  const v = await settingValue(files, "statusLine");
  if (!v || typeof v !== "object") return undefined;
  const o = v as Record<string, unknown>;
  if (o.type !== "command" || typeof o.command !== "string" || !o.command.trim()) return undefined;
  return { command: o.command, ...(typeof o.padding === "number" ? { padding: o.padding } : {}) };
}

/**
 * Whether Claude Code continues the session by itself when a usage limit resets: its
 * `autoContinueAtUsageLimit` setting, on unless set to false (2.1.328: "When a claude.ai usage limit stops
 * your session, wait for the limit to reset and continue the task automatically").
 */
export async function autoContinueAtLimit(files: string[]): Promise<boolean> {
  return (await settingValue(files, "autoContinueAtUsageLimit")) !== false;
}
