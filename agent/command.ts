/**
 * Starting the wrapped command in one of three ways: in this terminal (interactive), headless with its
 * stream-json output kept in the log (detached prompt), or in a pseudo-terminal connected to the daemon
 * (detached interactive, for `attach`).
 */
import type { StratavoreClient } from "../lib/client.ts";
import type { Logger } from "../lib/log.ts";
import { Child, type ExitStatus, type RunningCommand } from "./child.ts";
import { captureStream, type StreamFacts } from "./headless.ts";
import { PtyChild } from "./pty_child.ts";
import { PtyLink } from "./pty_link.ts";

export type RunMode = "interactive" | "headless" | "pty";

export interface StartedCommand {
  child: RunningCommand;
  /** Facts read from a headless run's stream (session id, result). */
  facts: StreamFacts;
  /** Resolves when the command's output has been fully read (headless). */
  captured: Promise<void>;
  /** Called once the command exited: tells attached viewers, closes the log. */
  finish(status: ExitStatus): Promise<void>;
}

export async function startCommand(o: {
  mode: RunMode;
  command: string;
  args: string[];
  cwd: string;
  env: Record<string, string>;
  logPath?: string;
  client: StratavoreClient;
  runnerId: number;
  token: string;
  scrollback: number;
  log: Logger;
  onSession(sessionId: string): void;
}): Promise<StartedCommand> {
  const facts: StreamFacts = {};
  if (o.mode === "pty") {
    const child = await PtyChild.spawn({
      command: o.command,
      args: o.args,
      cwd: o.cwd,
      env: o.env,
      cols: 120,
      rows: 40,
    });
    const file = o.logPath ? await Deno.open(o.logPath, { create: true, append: true }) : undefined;
    child.onOutput((bytes) => {
      try {
        file?.writeSync(bytes);
      } catch { /* disk full: the session goes on */ }
    });
    const link = new PtyLink({
      url: o.client.url,
      runnerId: o.runnerId,
      token: o.token,
      child,
      scrollback: o.scrollback,
      log: o.log,
    });
    link.start();
    return {
      child,
      facts,
      captured: Promise.resolve(),
      async finish(status) {
        await link.finish(status.code, status.signal);
        file?.close();
      },
    };
  }
  const child = Child.spawn({
    command: o.command,
    args: o.args,
    cwd: o.cwd,
    env: o.env,
    stdio: o.mode === "headless" ? "capture" : "inherit",
  });
  const captured = o.mode === "headless" && child.stdout
    ? captureStream(child.stdout, o.logPath!, facts, (kind) => {
      if (kind === "init" && facts.sessionId) o.onSession(facts.sessionId);
    })
    : Promise.resolve();
  return { child, facts, captured, finish: () => Promise.resolve() };
}
