/**
 * The agent's side of SessionStart: Claude Code runs it only as a command hook, which appends its JSON to a
 * file in the runner's folder (lib/claude/hooks.ts). The agent follows that file to learn of new sessions
 * (/clear, resume, compaction) and passes each on to the daemon like the other hooks.
 */
import { TranscriptFollower } from "../lib/claude/follow.ts";
import { type HookInput, parseHookInput } from "../lib/claude/hooks.ts";

export function watchHookEvents(path: string, onEvent: (h: HookInput) => void): { poll(): Promise<void> } {
  const follower = new TranscriptFollower(path);
  return {
    async poll() {
      for (const line of await follower.poll()) {
        if (!line.trim()) continue;
        try {
          onEvent(parseHookInput(line));
        } catch { /* a torn or foreign line: ignore */ }
      }
    },
  };
}
