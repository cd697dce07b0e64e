/**
 * A session in the foreground (`stratavore launch`, `agent`, `resume`) is handed over from the CLI to a thin
 * process. main.ts runs those commands in agent/foreground.ts, which loads neither commander nor zod: it
 * starts the whole CLI as a child with STRATAVORE_SESSION_HANDOFF naming a private file; the child checks
 * the command line and the config and registers the runner as before, then writes what the session needs
 * into that file instead of running it (agent/main.ts), and the thin process runs the session. The process
 * that stays beside the session all day is then the detached agent's size, not the CLI's
 * (docs/performance.md). A child that has no session to hand over (--help, --detach, an error) writes
 * nothing and its exit code is the command's.
 */
import { AppError } from "./errors.ts";
import { agentSettingsOf, checkAgentSpec, type DetachedAgentSpec } from "./detached_agent.ts";

export const HANDOFF_ENV = "STRATAVORE_SESSION_HANDOFF";

export interface SessionHandoff extends Omit<DetachedAgentSpec, "mode" | "log"> {
  mode: "interactive" | "headless" | "pty";
  /** Headless: the file that keeps the command's output. */
  log?: string;
  /** The command line to run. */
  command: string[];
  /** The runner's token (the file is private and removed once read). */
  token: string;
  quiet: boolean;
  /** A heartbeat interval the user chose. */
  heartbeatMs?: number;
  /** How long a stop waits for the command before ending its process tree. */
  grace: number;
  tokenTrusted: boolean;
}

export function handoffText(h: SessionHandoff): string {
  return JSON.stringify({ ...h, settings: agentSettingsOf(h.settings) });
}

/** Reads the child's handoff back; a bad one means two versions of the program met. */
export function parseSessionHandoff(text: string): SessionHandoff {
  const bad = (what: string) =>
    new AppError(
      "failed",
      `the session handoff (written by this program's own command line checks) ${what}; ` +
        `is a different version of stratavore on PATH?`,
    );
  const data = checkAgentSpec(text, bad, ["interactive", "headless", "pty"]);
  const { command, token, quiet, heartbeatMs, grace, tokenTrusted } = data;
  if (!Array.isArray(command) || command.length === 0 || !command.every((a) => typeof a === "string")) {
    throw bad("has no command line");
  }
  if (typeof token !== "string" || !token) throw bad("has no runner token");
  if (typeof quiet !== "boolean" || typeof tokenTrusted !== "boolean") {
    throw bad("has no quiet or tokenTrusted");
  }
  if (typeof grace !== "number" || grace < 0) throw bad("has no stop grace");
  if (heartbeatMs !== undefined && !(typeof heartbeatMs === "number" && heartbeatMs > 0)) {
    throw bad("has a heartbeat interval that is not a positive number");
  }
  return data as unknown as SessionHandoff;
}
