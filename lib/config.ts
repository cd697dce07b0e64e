/**
 * Every setting in one strict zod schema, built from the table in lib/settings.ts (which also gives each its
 * default, help text and sources). Values come from flags, then the environment, then an optional
 * `$STRATAVORE_HOME/config.json`, then defaults; each value is validated where it came from, so a wrong one is
 * reported with its setting name, its problem and its source.
 */
import { z } from "zod";
import { priceOverridesSchema } from "./claude/pricing.ts";
import { AppError } from "./errors.ts";
import { configFileOf, flagName, type RuleKit, type Setting, type SettingKey, SETTINGS } from "./settings.ts";

export { LOG_LEVELS } from "./settings.ts";

const KIT: RuleKit = { z, priceOverrides: priceOverridesSchema };

type Shape = { [K in SettingKey]: ReturnType<(typeof SETTINGS)[K]["rule"]> };

const KEYS = Object.keys(SETTINGS) as SettingKey[];

export const configSchema = z.strictObject(
  Object.fromEntries(KEYS.map((key) => [key, SETTINGS[key].rule(KIT)])) as Shape,
);

export type Config = z.output<typeof configSchema>;
export type ConfigKey = SettingKey;

/** Where each setting may come from (the one table, lib/settings.ts). */
export const CONFIG_META: Record<ConfigKey, Setting> = SETTINGS as unknown as Record<ConfigKey, Setting>;

export interface ConfigSources {
  /** Flag values by config key (commander's parsed options, already mapped). */
  flags?: Partial<Record<ConfigKey, string | number | boolean | undefined>>;
  env?: Record<string, string | undefined>;
  /** Reads a file's text or returns undefined when it does not exist. */
  readFile?: (path: string) => string | undefined;
  os?: string;
}

export type ConfigSource = "flag" | "environment" | "config file" | "default";

export interface LoadedConfig {
  config: Config;
  sources: Record<ConfigKey, ConfigSource>;
  file: string;
}

function describeSource(key: ConfigKey, source: ConfigSource, file: string): string {
  const meta = CONFIG_META[key];
  switch (source) {
    case "flag":
      return `flag ${flagName(meta) ?? "--" + key.replace(/[A-Z]/g, (c) => "-" + c.toLowerCase())}`;
    case "environment":
      return `environment variable ${meta.env}`;
    case "config file":
      return `${file}, key "${key}"`;
    default:
      return "the default";
  }
}

function shown(value: unknown, key: ConfigKey): string {
  if (CONFIG_META[key].secret) return "(hidden)";
  return JSON.stringify(value);
}

/** Resolve every setting; throws AppError("config_invalid") with one line naming setting, problem and source. */
export function loadConfig(src: ConfigSources = {}): LoadedConfig {
  const env = src.env ?? Deno.env.toObject();
  const os = src.os ?? Deno.build.os;
  const flags = src.flags ?? {};
  const raw: Record<string, unknown> = {};
  const sources = {} as Record<ConfigKey, ConfigSource>;
  const keys = KEYS;

  const take = (key: ConfigKey, value: unknown, source: ConfigSource) => {
    if (value === undefined || value === "" || key in raw) return;
    raw[key] = value;
    sources[key] = source;
  };

  for (const key of keys) take(key, flags[key], "flag");
  for (const key of keys) {
    const name = CONFIG_META[key].env;
    if (name) take(key, env[name], "environment");
  }

  const dflt = (key: ConfigKey): unknown => {
    const d = CONFIG_META[key].default;
    return typeof d === "function" ? d(env, os) : d;
  };
  // The home decides where config.json lives, so it is resolved before the file is read.
  const home = (raw.home as string | undefined) ?? (dflt("home") as string);
  const file = configFileOf(home, os);
  const text = (src.readFile ?? readTextIfExists)(file);
  if (text !== undefined) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch (e) {
      throw new AppError("config_invalid", `invalid config file ${file}: ${(e as Error).message}`);
    }
    if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) {
      throw new AppError("config_invalid", `invalid config file ${file}: expected a JSON object of settings`);
    }
    for (const [key, value] of Object.entries(parsed)) {
      if (!(key in CONFIG_META)) {
        throw new AppError(
          "config_invalid",
          `unknown setting "${key}" in ${file}: remove it or use one of ${keys.join(", ")}`,
        );
      }
      if (key === "home") {
        throw new AppError(
          "config_invalid",
          `setting "home" cannot be set in ${file}: use STRATAVORE_HOME or --home`,
        );
      }
      take(key as ConfigKey, value, "config file");
    }
  }
  for (const key of keys) take(key, dflt(key), "default");

  const shape = configSchema.shape;
  const out: Record<string, unknown> = {};
  for (const key of keys) {
    if (!(key in raw)) continue;
    const r = shape[key].safeParse(raw[key]);
    if (!r.success) {
      const problem = r.error.issues[0]?.message ?? "invalid value";
      const name = sources[key] === "environment" ? CONFIG_META[key].env : key;
      throw new AppError(
        "config_invalid",
        `invalid setting ${name}=${shown(raw[key], key)} (from ${
          describeSource(key, sources[key], file)
        }): ${problem}`,
      );
    }
    out[key] = r.data;
  }
  // Outputs are valid inputs (durations as milliseconds), so the whole object is checked once more.
  return { config: configSchema.parse(out), sources, file };
}

function readTextIfExists(path: string): string | undefined {
  try {
    return Deno.readTextFileSync(path);
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return undefined;
    throw new AppError("config_invalid", `cannot read config file ${path}: ${(e as Error).message}`);
  }
}

/** The effective settings with secrets masked, for `stratavore config`. */
export function describeConfig(loaded: LoadedConfig): { key: string; value: string; source: string }[] {
  return (Object.keys(CONFIG_META) as ConfigKey[]).map((key) => {
    const value = loaded.config[key];
    const meta = CONFIG_META[key];
    let text: string;
    if (value === undefined) text = "";
    else if (meta.secret === "full") text = "********";
    else if (meta.secret === "url") text = maskUrl(String(value));
    else if (meta.show) text = meta.show(value as never);
    else if (typeof value === "object") text = JSON.stringify(value);
    else text = String(value);
    return {
      key,
      value: text,
      source: loaded.sources[key] ? describeSource(key, loaded.sources[key], loaded.file) : "",
    };
  });
}

export function maskUrl(text: string): string {
  try {
    const u = new URL(text);
    if (u.password) u.password = "****";
    return u.toString();
  } catch {
    return "********";
  }
}
