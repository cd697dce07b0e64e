/** The agent's side of `stratavore hook`: hook reports appended to a file in the runner's folder. */
import { TranscriptFollower } from "../lib/claude/follow.ts";
import { type HookRequest, hookRequest } from "../lib/schemas/runner.ts";

export function watchHookEvents(path: string, onEvent: (h: HookRequest) => void): { poll(): Promise<void> } {
  const follower = new TranscriptFollower(path);
  return {
    async poll() {
      for (const line of await follower.poll()) {
        try {
          const r = hookRequest.safeParse(JSON.parse(line));
          if (r.success) onEvent(r.data);
        } catch { /* a torn line: ignore */ }
      }
    },
  };
}
