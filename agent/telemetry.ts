/**
 * A Claude Code session's telemetry: pointed at the daemon (so its costs are Claude Code's own), unless the
 * user already exports it elsewhere (left alone: their collector keeps working, and the runner's costs are
 * then estimated from transcripts) or the daemon's configuration turns it off.
 */
import type { Config } from "../lib/config.ts";
import { claudeConfigDirs } from "../lib/claude/paths.ts";
import {
  settingsEnvs,
  settingsFiles,
  telemetryEnv,
  type TelemetryMode,
  userTelemetry,
} from "../lib/claude/telemetry.ts";

export interface SessionTelemetry {
  mode: TelemetryMode;
  /** Variables to add to the session's environment (empty unless mode is "stratavore"). */
  env: Record<string, string>;
  /** Where the user's own telemetry goes (mode "user"). */
  endpoint?: string;
}

export async function sessionTelemetry(
  config: Pick<Config, "claudeTelemetry" | "telemetryInterval">,
  env: Record<string, string>,
  cwd: string,
  runner: { url: string; runnerId: number; token: string },
): Promise<SessionTelemetry> {
  if (!config.claudeTelemetry) return { mode: "off", env: {} };
  const home = env.HOME ?? env.USERPROFILE ?? ".";
  const configDir = claudeConfigDirs(env, home)[0];
  const user = userTelemetry(env, await settingsEnvs(settingsFiles(cwd, configDir)));
  if (user) return { mode: "user", env: {}, endpoint: user.endpoint };
  return {
    mode: "stratavore",
    env: telemetryEnv({
      url: runner.url,
      runnerId: runner.runnerId,
      token: runner.token,
      intervalMs: config.telemetryInterval,
      resourceAttributes: env.OTEL_RESOURCE_ATTRIBUTES,
    }),
  };
}
