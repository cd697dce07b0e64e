/**
 * The agent's side of SessionStart: Claude Code runs it only as a command hook, which appends its JSON to a
 * file in the runner's folder (lib/claude/hooks.ts). The agent follows that file to learn of new sessions
 * (/clear, resume, compaction) and passes each on to the daemon like the other hooks, which checks it
 * (lib/schemas/hook_input.ts); the agent reads only the session's id and transcript, so it loads no zod.
 */
import { TranscriptFollower } from "../lib/claude/follow.ts";

/** A line of the events file as the agent reads it: the hook's whole JSON, forwarded as it is. */
export interface SessionStartLine {
  input: Record<string, unknown>;
  sessionId: string;
  transcriptPath?: string;
}

/** One line of the events file, or undefined for a torn or foreign one. */
export function sessionStartOf(line: string): SessionStartLine | undefined {
  let data: unknown;
  try {
    data = JSON.parse(line);
  } catch {
    return undefined;
  }
  if (typeof data !== "object" || data === null || Array.isArray(data)) return undefined;
  const input = data as Record<string, unknown>;
  const id = input.session_id;
  if (typeof id !== "string" || id.length === 0 || id.length > 200) return undefined;
  const path = input.transcript_path;
  return { input, sessionId: id, ...(typeof path === "string" && path ? { transcriptPath: path } : {}) };
}

/**
 * Follows the events file: each new line is passed on at once. The file is the runner's own, on a local
 * disk, so a file watcher is reliable here (TranscriptFollower's note on watchers is about transcripts in
 * any folder); `poll()` stays the heartbeat's backstop, for a watcher that cannot start or misses a change.
 */
export function watchHookEvents(
  path: string,
  onEvent: (h: SessionStartLine) => void,
): { poll(): Promise<void>; close(): void } {
  const follower = new TranscriptFollower(path);
  const poll = async () => {
    for (const line of await follower.poll()) {
      const h = line.trim() ? sessionStartOf(line) : undefined;
      if (h) onEvent(h);
    }
  };
  let watcher: Deno.FsWatcher | undefined;
  try {
    watcher = Deno.watchFs(path, { recursive: false });
  } catch { /* no watcher here: the heartbeat's poll finds the lines */ }
  if (watcher) {
    const changes = watcher;
    (async () => {
      try {
        for await (const e of changes) {
          if (e.kind === "modify" || e.kind === "create") await poll().catch(() => {});
        }
      } catch { /* closed, or the watcher failed: the heartbeat's poll goes on */ }
    })();
  }
  return { poll, close: () => watcher?.close() };
}
