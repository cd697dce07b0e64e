/**
 * What a Claude Code hook sends (its http hooks post it to the daemon; SessionStart reaches it through the
 * agent). The daemon parses it here; the agent only forwards it.
 */
import { z } from "zod";

/** What Claude Code sends a hook; fields we do not use are kept (Claude Code adds new ones). */
export const hookInputSchema = z.looseObject({
  session_id: z.string().min(1).max(200),
  transcript_path: z.string().max(4096).optional(),
  cwd: z.string().max(4096).optional(),
  hook_event_name: z.string().min(1).max(100),
  /** Notification: `idle_prompt`, `permission_prompt`, `elicitation_dialog`, … */
  notification_type: z.string().max(100).optional(),
  message: z.string().optional(),
  /** SessionStart: `startup`, `resume`, `clear`, `compact`. */
  source: z.string().max(100).optional(),
  /** SessionEnd: `clear`, `logout`, `prompt_input_exit`, `other`, … */
  reason: z.string().max(100).optional(),
  tool_name: z.string().max(200).optional(),
  tool_input: z.unknown().optional(),
  tool_use_id: z.string().max(200).optional(),
  prompt: z.string().optional(),
  /** StopFailure: what went wrong (an API error, a usage limit …). */
  error: z.unknown().optional(),
  /** Stop, StopFailure: the last assistant text ("You've hit your 5-hour limit · resets 4:37am (UTC)"). */
  last_assistant_message: z.string().optional(),
  permission_mode: z.string().max(100).optional(),
  /** PreCompact, PostCompact: `manual` (/compact) or `auto`. */
  trigger: z.string().max(100).optional(),
});

export type HookInput = z.infer<typeof hookInputSchema>;

/** Parses a hook's JSON; throws an Error with a one-line message naming what is wrong. */
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
