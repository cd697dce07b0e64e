/**
 * What every role starts with (the daemon, the agent and each CLI command): the validated config (flags > env >
 * file > defaults) and the log and output settings. It lives below cli/, agent/ and daemon/ so that none of
 * them imports another role's modules (tests/layout_test.ts).
 */
import { type ConfigKey, loadConfig, type LoadedConfig } from "./config.ts";
import { type FlagSettingKey, SETTINGS } from "./settings.ts";
import { log, stderrSink } from "./log.ts";
import { RotatingFileSink, teeSink } from "./log_file.ts";

/**
 * What every command gets from main.ts's program options (commander infers them there): output switches and
 * the settings that have a flag (--home, --url, --token, --log-level, --log-format; the daemon's own too).
 */
export type GlobalOptions = { json?: boolean; color?: boolean } & { [K in FlagSettingKey]?: string };

export interface Context {
  loaded: LoadedConfig;
  json: boolean;
  color: boolean;
}

/** A flag's option name is its setting's (tests/lib/settings_test.ts), so flags map onto settings one to one. */
export function contextFrom(opts: GlobalOptions, role: { daemon?: boolean } = {}): Context {
  const flags: Partial<Record<ConfigKey, string>> = {};
  for (const key of Object.keys(SETTINGS) as ConfigKey[]) {
    const v = SETTINGS[key].flag ? opts[key as FlagSettingKey] : undefined;
    if (typeof v === "string") flags[key] = v;
  }
  const loaded = loadConfig({ flags });
  // Only the daemon writes the log file: agents and CLI commands rotating it too would tear it apart.
  const file = role.daemon && loaded.config.logFile
    ? new RotatingFileSink(loaded.config.logFile, { fallback: stderrSink })
    : undefined;
  // As a service stderr is the journal (or launchd's file): the lines go to stderr too only on a terminal.
  const sink = file && (stderrSink.isTerminal() ? teeSink(file, stderrSink) : file);
  log.configure({ level: loaded.config.logLevel, format: loaded.config.logFormat, sink });
  log.redact(loaded.config.token);
  log.redact(loaded.config.telegramBotToken);
  return { loaded, json: opts.json === true, color: wantColor(opts) };
}

function wantColor(opts: GlobalOptions): boolean {
  if (opts.color === false) return false;
  if (Deno.env.get("NO_COLOR")) return false;
  try {
    return Deno.stdout.isTerminal();
  } catch {
    return false;
  }
}
