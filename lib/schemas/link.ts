/**
 * The link every agent keeps open to its daemon: a WebSocket at /api/v1/runners/:id/link, authenticated
 * with the runner's token. The daemon tells the agent its runner's state and commands (stop, kill) the
 * moment they happen; for runners with a terminal the same link carries the terminal (output and keys as
 * binary frames, the control messages below as JSON text frames). One schema per direction.
 */
import { z } from "zod";
import { runnerState } from "./runner.ts";
import { processId } from "./common.ts";

export const terminalSize = {
  cols: z.number().int().min(1).max(1000),
  rows: z.number().int().min(1).max(1000),
};

const reason = z.string().max(2000).nullable();

/** Agent → daemon. */
export const agentMessage = z.discriminatedUnion("t", [
  /**
   * Sent on every (re)connect; the daemon answers with the runner's `state` first. A terminal's agent adds
   * its size, then (once it knows the runner still runs) a `replay` marker and its scrollback.
   */
  z.object({
    t: z.literal("hello"),
    pid: processId,
    cols: terminalSize.cols.optional(),
    rows: terminalSize.rows.optional(),
  }),
  /** The next binary frame replaces the daemon's scrollback (after a reconnect). */
  z.object({ t: z.literal("replay") }),
  z.object({ t: z.literal("exit"), code: z.number().int().nullable(), signal: z.string().nullable() }),
]);
export type AgentMessage = z.infer<typeof agentMessage>;

/** Daemon → agent. */
export const toAgentMessage = z.discriminatedUnion("t", [
  /** The runner's state as the daemon has it: the first message of every connection. */
  z.object({ t: z.literal("state"), state: runnerState, stopRequested: z.boolean(), reason }),
  /** Stop the session gracefully (the command's polite signal, then the tree after the grace period). */
  z.object({ t: z.literal("stop"), reason }),
  /** End the session's whole process tree now. */
  z.object({ t: z.literal("kill"), reason }),
  /** A viewer resized the terminal. */
  z.object({ t: z.literal("resize"), ...terminalSize }),
]);
export type ToAgentMessage = z.infer<typeof toAgentMessage>;

/**
 * A message for one runner's agent, sent between daemons (NOTIFY, in the transaction that decided it):
 * every daemon sharing the database hears it, and the one holding that agent's link delivers it.
 */
export const linkNotice = z.object({ runner: z.number().int().positive(), message: toAgentMessage });
export type LinkNotice = z.infer<typeof linkNotice>;
