/**
 * What the daemon hands a detached runner's agent (daemon/spawn.ts → agent/detached.ts): the runner, where
 * its output goes, and the daemon's own settings for the session, already checked when the daemon started.
 * The agent then needs neither the config nor the CLI (no zod, no commander: a detached agent runs beside its
 * session all day, docs/performance.md). It travels as the first argument, JSON, then `--` and the command
 * line; the runner's token goes in the environment, never on a command line.
 */
import type { Config } from "./config.ts";
import type { WorktreeInfo } from "./schemas/worktree.ts";
import { AppError } from "./errors.ts";

/** The settings a session runs with (agent/session.ts). */
export const AGENT_SETTING_KEYS = [
  "home",
  "heartbeatInterval",
  "scrollback",
  "sessionEnv",
  "claudeTelemetry",
  "telemetryInterval",
  "worktrees",
] as const;
export type AgentSettings = Pick<Config, typeof AGENT_SETTING_KEYS[number]>;

export interface DetachedAgentSpec {
  /** The daemon's API, as the agent reaches it. */
  url: string;
  runner: { id: number; project: string; cwd: string; worktree: WorktreeInfo | null };
  /** A terminal reachable through the daemon, or headless (stream-json into the log). */
  mode: "headless" | "pty";
  /** The command's output: stream-json lines, or the raw terminal. */
  log: string;
  settings: AgentSettings;
}

/** The agent's settings out of a whole config: only AGENT_SETTING_KEYS travel. */
export function agentSettingsOf(settings: AgentSettings): AgentSettings {
  return Object.fromEntries(AGENT_SETTING_KEYS.map((k) => [k, settings[k]])) as AgentSettings;
}

/** The arguments after the program: the spec, then the command line. */
export function detachedAgentArgs(spec: DetachedAgentSpec, command: string[]): string[] {
  return [JSON.stringify({ ...spec, settings: agentSettingsOf(spec.settings) }), "--", ...command];
}

/**
 * Reads the spec back. It comes from the daemon, so a bad one means a mismatched daemon and agent (two
 * versions) or a hand-made call: the error says which field, and that this is the daemon's to pass.
 */
export function parseDetachedAgentSpec(text: string): DetachedAgentSpec {
  const bad = (what: string) =>
    new AppError(
      "usage",
      `the detached agent's spec (its first argument, which the daemon passes) ${what}; ` +
        `run sessions with "stratavore launch --detach", or "stratavore agent -- <command>" by hand`,
    );
  return checkAgentSpec(text, bad, ["headless", "pty"]) as unknown as DetachedAgentSpec;
}

/**
 * The checks of a spec's common fields (this module's spec, and lib/session_handoff.ts's, which adds its
 * own): JSON, the daemon's url, the runner, a mode among `modes`, a log file unless interactive, the
 * settings. Returns the parsed object; `bad` makes the error for what is wrong.
 */
export function checkAgentSpec(
  text: string,
  bad: (what: string) => Error,
  modes: readonly string[],
): Record<string, unknown> {
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch {
    throw bad("is not JSON");
  }
  const obj = (v: unknown): v is Record<string, unknown> =>
    typeof v === "object" && v !== null && !Array.isArray(v);
  if (!obj(data)) throw bad("is not a JSON object");
  const { url, runner, mode, log, settings } = data;
  if (typeof url !== "string" || !/^https?:\/\//.test(url)) throw bad("has no daemon url");
  if (typeof mode !== "string" || !modes.includes(mode)) {
    const choices = modes.join(" or ");
    throw bad(
      mode === undefined ? `has no mode (${choices})` : `has mode ${JSON.stringify(mode)}, not ${choices}`,
    );
  }
  if (mode === "interactive" ? log !== undefined : typeof log !== "string" || !log) {
    throw bad(mode === "interactive" ? "has a log file for an interactive session" : "has no log file");
  }
  if (
    !obj(runner) || !Number.isSafeInteger(runner.id) || (runner.id as number) <= 0 ||
    typeof runner.project !== "string" || typeof runner.cwd !== "string" || !runner.cwd
  ) throw bad("has no runner id, project and folder");
  const wt = runner.worktree;
  if (wt !== null && !(obj(wt) && typeof wt.state === "string" && typeof wt.branch === "string")) {
    throw bad("has a worktree without its state and branch");
  }
  if (!obj(settings)) throw bad("has no settings");
  const positive = (k: string) => typeof settings[k] === "number" && (settings[k] as number) > 0;
  const optionalText = (k: string) => settings[k] === undefined || typeof settings[k] === "string";
  if (typeof settings.home !== "string" || !settings.home) throw bad("has no settings.home");
  for (const k of ["heartbeatInterval", "scrollback", "telemetryInterval"]) {
    if (!positive(k)) throw bad(`has no positive settings.${k}`);
  }
  if (typeof settings.claudeTelemetry !== "boolean") throw bad("has no settings.claudeTelemetry");
  for (const k of ["sessionEnv", "worktrees"]) {
    if (!optionalText(k)) throw bad(`has a settings.${k} that is not text`);
  }
  return data;
}
