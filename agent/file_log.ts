/** A plain appending log file for the agent, so its messages never draw over the session's terminal. */
import type { LogSink } from "../lib/log.ts";

export function fileSink(path: string): LogSink {
  const file = Deno.openSync(path, { create: true, append: true });
  const enc = new TextEncoder();
  return {
    write(line) {
      try {
        file.writeSync(enc.encode(line + "\n"));
      } catch { /* disk full or closed: logging must not end the session */ }
    },
    isTerminal: () => false,
  };
}
