/**
 * The viewers' side of detached interactive runners' terminals (the agent's side travels on its link,
 * link.ts). Output and keystrokes travel as binary WebSocket frames; control messages are JSON text frames,
 * one schema per direction.
 */
import { z } from "zod";
import { terminalSize as size } from "./link.ts";

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
