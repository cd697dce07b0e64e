/**
 * The terminal channel of detached interactive runners. Output and keystrokes travel as binary WebSocket
 * frames; control messages are JSON text frames, one schema per direction.
 */
import { z } from "zod";

const size = { cols: z.number().int().min(1).max(1000), rows: z.number().int().min(1).max(1000) };

/** Agent → daemon. */
export const agentMessage = z.discriminatedUnion("t", [
  /** Sent on every (re)connect, followed by a `replay` frame marker and the agent's scrollback. */
  z.object({ t: z.literal("hello"), ...size, pid: z.number().int() }),
  /** The next binary frame replaces the daemon's scrollback (after a reconnect). */
  z.object({ t: z.literal("replay") }),
  z.object({ t: z.literal("exit"), code: z.number().int().nullable(), signal: z.string().nullable() }),
]);
export type AgentMessage = z.infer<typeof agentMessage>;

/** Daemon → agent. */
export const toAgentMessage = z.discriminatedUnion("t", [
  z.object({ t: z.literal("resize"), ...size }),
]);
export type ToAgentMessage = z.infer<typeof toAgentMessage>;

/** Viewer → daemon. */
export const viewerMessage = z.discriminatedUnion("t", [
  z.object({ t: z.literal("resize"), ...size }),
  /** Take the keyboard (read-write viewers only). */
  z.object({ t: z.literal("take") }),
]);
export type ViewerMessage = z.infer<typeof viewerMessage>;

/** Daemon → viewer. */
export const toViewerMessage = z.discriminatedUnion("t", [
  z.object({
    t: z.literal("hello"),
    runner: z.number(),
    you: z.string(),
    readOnly: z.boolean(),
    ...size,
    /** Whether the agent is connected (its session is reachable). */
    live: z.boolean(),
  }),
  /** Who holds the keyboard now (a viewer name), and how many watch. */
  z.object({ t: z.literal("keyboard"), holder: z.string().nullable(), viewers: z.number() }),
  z.object({ t: z.literal("size"), ...size }),
  z.object({ t: z.literal("agent"), live: z.boolean() }),
  z.object({ t: z.literal("exit"), code: z.number().nullable(), signal: z.string().nullable() }),
]);
export type ToViewerMessage = z.infer<typeof toViewerMessage>;
