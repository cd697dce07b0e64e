/**
 * `stratavore hook <event>`: run by Claude Code's hooks (registered by the agent through --settings).
 * Reads the hook JSON on stdin, tells the daemon (runner token from the environment the agent set up),
 * and hands the same facts to the agent through its events file. It never fails the hook: Claude Code
 * must not be slowed or blocked by Stratavore, so every problem ends with exit 0.
 */
import { StratavoreClient } from "../../lib/client.ts";
import { parseHookInput } from "../../lib/claude/hooks.ts";
import { HOOK_EVENTS, type HookRequest } from "../../lib/schemas/runner.ts";

export const HOOK_ENV = {
  runner: "STRATAVORE_RUNNER_ID",
  token: "STRATAVORE_RUNNER_TOKEN",
  url: "STRATAVORE_URL",
  events: "STRATAVORE_AGENT_EVENTS",
} as const;

async function readStdin(limit = 1024 * 1024): Promise<string> {
  const chunks: Uint8Array[] = [];
  let size = 0;
  for await (const chunk of Deno.stdin.readable) {
    size += chunk.byteLength;
    chunks.push(chunk);
    if (size > limit) break;
  }
  const all = new Uint8Array(size);
  let at = 0;
  for (const c of chunks) {
    all.set(c, at);
    at += c.byteLength;
  }
  return new TextDecoder().decode(all.subarray(0, Math.min(size, limit)));
}

export async function hookCommand(event: string): Promise<void> {
  const known = (HOOK_EVENTS as readonly string[]).includes(event);
  const text = await readStdin().catch(() => "");
  let input;
  try {
    input = parseHookInput(text);
  } catch {
    return;
  }
  if (!known) return;
  const body: HookRequest = {
    event: event as HookRequest["event"],
    sessionId: input.session_id || undefined,
    transcriptPath: input.transcript_path || undefined,
    notificationType: input.notification_type,
    message: input.message?.slice(0, 2000),
    source: input.source,
    reason: input.reason,
  };
  const eventsFile = Deno.env.get(HOOK_ENV.events);
  if (eventsFile) {
    try {
      await Deno.writeTextFile(eventsFile, JSON.stringify(body) + "\n", { append: true, create: true });
    } catch { /* the agent may be gone */ }
  }
  const id = Number(Deno.env.get(HOOK_ENV.runner));
  const token = Deno.env.get(HOOK_ENV.token);
  const url = Deno.env.get(HOOK_ENV.url);
  if (!id || !token || !url) return;
  try {
    await new StratavoreClient({ url, token, timeoutMs: 3000, agent: "stratavore-hook" }).hook(id, body);
  } catch {
    // The daemon may be restarting; the agent still learns from the events file.
  }
}
