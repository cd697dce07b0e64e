/**
 * What every role starts with (the daemon, the agent and each CLI command): the validated config (flags > env >
 * file > defaults) and the log and output settings. It lives below cli/, agent/ and daemon/ so that none of
 * them imports another role's modules (tests/layout_test.ts).
 */
import { CONFIG_META, type ConfigKey, loadConfig, type LoadedConfig } from "./config.ts";
import { log, stderrSink } from "./log.ts";
import { RotatingFileSink, teeSink } from "./log_file.ts";

export interface GlobalOptions {
  home?: string;
  url?: string;
  token?: string;
  json?: boolean;
  color?: boolean;
  logLevel?: string;
  logFormat?: string;
  [flag: string]: unknown;
}

export interface Context {
  loaded: LoadedConfig;
  json: boolean;
  color: boolean;
}

/** Commander option names are the config keys in camelCase, so flags map onto settings one to one. */
export function contextFrom(opts: GlobalOptions, role: { daemon?: boolean } = {}): Context {
  const flags: Partial<Record<ConfigKey, string>> = {};
  for (const key of Object.keys(CONFIG_META) as ConfigKey[]) {
    const v = opts[key];
    if (CONFIG_META[key].flag && (typeof v === "string" || typeof v === "number")) flags[key] = String(v);
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
