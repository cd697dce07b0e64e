/**
 * Starting the wrapped command in one of three ways: in this terminal (interactive), headless with its
 * stream-json output kept in the log (detached prompt), or in a pseudo-terminal reachable through the
 * daemon (detached interactive, for `attach`); and opening the agent's link to the daemon (link.ts), which
 * every kind keeps and which carries the terminal of the third.
 */
import type { RunnerClient } from "../lib/runner_client.ts";
import type { Logger } from "../lib/log.ts";
import { Child, type ExitStatus, type RunningCommand } from "./child.ts";
import { captureStream, type StreamFacts } from "./headless.ts";
import { AgentLink, type LinkOptions } from "./link.ts";
import { PtyChild } from "./pty_child.ts";
import { loadTerminalClient } from "../lib/ws.ts";

export type RunMode = "interactive" | "headless" | "pty";

export interface StartedCommand {
  child: RunningCommand;
  /** Facts read from a headless run's stream (session id, result). */
  facts: StreamFacts;
  /** Resolves when the command's output has been fully read (headless). */
  captured: Promise<void>;
  /** The link to the daemon, open from the moment the command runs. */
  link: AgentLink;
  /** Called once the command exited: tells the daemon (and attached viewers) over the link, closes the log. */
  finish(status: ExitStatus): Promise<void>;
}

type LinkHandlers = Pick<LinkOptions, "onMessage" | "onUp" | "onRefused">;

export async function startCommand(o: {
  mode: RunMode;
  command: string;
  args: string[];
  cwd: string;
  env: Record<string, string>;
  logPath?: string;
  client: RunnerClient;
  runnerId: number;
  token: string;
  scrollback: number;
  log: Logger;
  onSession(sessionId: string): void;
  /** A headless run reported its subscription windows (facts.rateLimit). */
  onRateLimit?(facts: StreamFacts): void;
  link: LinkHandlers;
}): Promise<StartedCommand> {
  const facts: StreamFacts = {};
  const linkTo = (pid: number, terminal?: PtyChild) => {
    const link = new AgentLink({
      url: o.client.url,
      runnerId: o.runnerId,
      token: o.token,
      pid,
      terminal: terminal && { child: terminal, scrollback: o.scrollback },
      log: o.log,
      ...o.link,
    });
    link.start();
    return link;
  };
  if (o.mode === "pty") {
    await loadTerminalClient(); // keystrokes on the link: TCP_NODELAY (lib/ws.ts)
    const file = o.logPath ? await Deno.open(o.logPath, { create: true, append: true }) : undefined;
    let child: PtyChild;
    try {
      child = await PtyChild.spawn({
        command: o.command,
        args: o.args,
        cwd: o.cwd,
        env: o.env,
        cols: 120,
        rows: 40,
      });
    } catch (e) {
      file?.close();
      throw e;
    }
    // In the same tick as the spawn: neither the log nor the link's scrollback misses any output.
    child.onOutput((bytes) => {
      try {
        file?.writeSync(bytes);
      } catch { /* disk full: the session goes on */ }
    });
    const link = linkTo(child.pid, child);
    return {
      child,
      facts,
      captured: Promise.resolve(),
      link,
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
      if (kind === "rate_limit") o.onRateLimit?.(facts);
    })
    : Promise.resolve();
  const link = linkTo(child.pid);
  return { child, facts, captured, link, finish: (status) => link.finish(status.code, status.signal) };
}
