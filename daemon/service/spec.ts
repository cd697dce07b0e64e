/**
 * What every service definition is made of (the command line, the settings carried into its environment,
 * where its logs go) and the effects' seams: a command runner and a root folder that tests substitute.
 */
import type { ConfigKey, LoadedConfig } from "../../lib/config.ts";
import { SETTINGS } from "../../lib/settings.ts";
import { homePathFor } from "../../lib/home.ts";

export type ServiceOs = "linux" | "darwin" | "windows";

export interface ServiceSpec {
  os: ServiceOs;
  /** A system-wide service (root/admin) instead of the current user's. */
  system: boolean;
  /** Program and arguments that run the daemon. */
  command: string[];
  /** Settings carried into the service (it does not inherit the installing shell's environment). */
  env: Record<string, string>;
  home: string;
  logDir: string;
  user: string;
}

/** The settings that decide which daemon runs and where; carried when set by a flag or the environment. */
const CARRIED: ConfigKey[] = [
  "home",
  "listen",
  "metricsListen",
  "databaseUrl",
  "amqpUrl",
  "telegramBotToken",
  "telegramChatId",
  "telegramApiRoot",
  "logLevel",
];

export interface SpecInput {
  loaded: LoadedConfig;
  /** How this program runs itself as the daemon (lib/self.ts's daemonCommand()). */
  self: string[];
  os: ServiceOs;
  system: boolean;
  user: string;
  /** The installing process's environment (DENO_DIR is kept when the service runs through deno). */
  env?: Record<string, string | undefined>;
}

export function buildSpec(i: SpecInput): ServiceSpec {
  const { config, sources } = i.loaded;
  const env: Record<string, string> = {};
  for (const key of CARRIED) {
    const value = config[key];
    const from = sources[key];
    // The home always: a service manager's HOME (or none at all) must not pick another data folder.
    if (value !== undefined && (key === "home" || from === "flag" || from === "environment")) {
      env[SETTINGS[key].env!] = String(value);
    }
  }
  if (i.self[1] === "run" && i.env?.DENO_DIR) env.DENO_DIR = i.env.DENO_DIR;
  const logDir = homePathFor(i.os, config.home, "logs");
  return {
    os: i.os,
    system: i.system,
    command: [...i.self, "daemon", "--log-file", homePathFor(i.os, logDir, "daemon.log")],
    env,
    home: config.home,
    logDir,
    user: i.user,
  };
}

export interface RunResult {
  code: number;
  stdout: string;
  stderr: string;
  /** Not really run (STRATAVORE_SERVICE_ROOT): the answer says nothing about the service. */
  dry?: boolean;
}

/** Runs one command; undefined when its program is not installed. */
export type Runner = (cmd: string[]) => Promise<RunResult | undefined>;

export const realRunner: Runner = async (cmd) => {
  try {
    const out = await new Deno.Command(cmd[0], { args: cmd.slice(1), stdin: "null" }).output();
    const dec = new TextDecoder();
    return { code: out.code, stdout: dec.decode(out.stdout), stderr: dec.decode(out.stderr) };
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return undefined;
    return { code: -1, stdout: "", stderr: (e as Error).message };
  }
};

export function dryRunner(print: (line: string) => void): Runner {
  return (cmd) => {
    print(`would run: ${shellLine(cmd)}`);
    return Promise.resolve({ code: 0, stdout: "", stderr: "", dry: true });
  };
}

/** A command as one copy-pastable line (POSIX quoting; also readable in PowerShell). */
export function shellLine(cmd: string[]): string {
  return cmd.map((a) => /^[\w@%+=:,./\\-]+$/.test(a) ? a : `'${a.replaceAll("'", `'\\''`)}'`).join(" ");
}

/** Where a file really goes: under `root` (tests, STRATAVORE_SERVICE_ROOT) or as is. */
export function reroot(root: string | undefined, path: string): string {
  if (!root) return path;
  const rest = path.replace(/^([A-Za-z]):/, "$1").replace(/^[\\/]+/, "");
  return `${root.replace(/[\\/]+$/, "")}/${rest.replaceAll("\\", "/")}`;
}

export function xmlEscape(s: string): string {
  return s.replaceAll("&", "&amp;").replaceAll("<", "&lt;").replaceAll(">", "&gt;").replaceAll('"', "&quot;")
    .replaceAll("'", "&apos;");
}

/** One service file, and what the service manager is asked to do with it. */
export interface Plan {
  /** A short description: "systemd user unit", "launchd agent", … */
  kind: string;
  files: { path: string; text: string; utf16?: boolean }[];
  /** Run after the files are written; the first failure stops and prints what to run by hand. */
  install: string[][];
  /** Run before the files are removed (failures are reported; removal goes on). */
  uninstall: string[][];
  /** Run after the files are removed. */
  cleanup: string[][];
  /** Queries for `daemon status`; `parse` gets one answer per query (undefined: tool missing). */
  status: string[][];
  parse(answers: (RunResult | undefined)[]): { enabled: string; running: string };
  /** Printed after install: manual steps, settings that could not be carried. */
  notes: string[];
  uninstallNotes: string[];
}

/** The first line of a tool's answer, or "unknown" when it was not asked, is missing, or said nothing. */
export function answer(r: RunResult | undefined, map?: (text: string, code: number) => string): string {
  if (!r || r.dry) return "unknown";
  const text = (r.stdout.trim() || r.stderr.trim()).split("\n")[0].trim();
  if (map) return map(text, r.code);
  return text || "unknown";
}
