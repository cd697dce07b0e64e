/**
 * Finds a command on PATH the way a shell would, including Windows' PATHEXT (npm installs `claude` as
 * claude.cmd there, which Deno cannot start directly: such scripts run through cmd.exe).
 */

import { cmdArguments, passesArgumentsOn } from "./cmd_quote.ts";

export interface Resolved {
  /** What to execute. */
  command: string;
  /** Arguments to put before the user's (cmd.exe's switches for a .cmd script). */
  prefix: string[];
  path: string;
  /** A Windows .cmd/.bat script run through cmd.exe: build its command line with `spawnArgs`. */
  cmdScript?: boolean;
}

/**
 * The arguments to give Deno.Command for `resolved` and the user's `args`. A .cmd script gets one
 * command line built for cmd.exe's parsing (lib/cmd_quote.ts), passed verbatim.
 */
export function spawnArgs(
  resolved: Resolved,
  args: string[],
): { args: string[]; windowsRawArguments?: true } {
  if (!resolved.cmdScript) return { args: [...resolved.prefix, ...args] };
  let text = "";
  try {
    text = Deno.readTextFileSync(resolved.path);
  } catch { /* unreadable: escape once */ }
  return { args: [cmdArguments(resolved.path, args, passesArgumentsOn(text))], windowsRawArguments: true };
}

function isFile(path: string): boolean {
  try {
    return Deno.statSync(path).isFile;
  } catch {
    return false;
  }
}

export function which(
  name: string,
  env: Record<string, string | undefined> = Deno.env.toObject(),
  os = Deno.build.os,
): Resolved | undefined {
  const windows = os === "windows";
  const sep = windows ? ";" : ":";
  const exts = windows ? (env.PATHEXT ?? ".COM;.EXE;.BAT;.CMD").split(";").map((e) => e.toLowerCase()) : [""];
  const hasDir = /[\\/]/.test(name);
  const dirs = hasDir ? [""] : (env.PATH ?? env.Path ?? "").split(sep).filter(Boolean);
  const hasExt = windows && exts.some((e) => e && name.toLowerCase().endsWith(e));
  for (const dir of dirs) {
    for (const ext of hasExt ? [""] : windows ? ["", ...exts] : [""]) {
      const path = dir ? `${dir}${windows ? "\\" : "/"}${name}${ext}` : `${name}${ext}`;
      if (!isFile(path)) continue;
      if (!windows) {
        try {
          if (((Deno.statSync(path).mode ?? 0o111) & 0o111) === 0) continue;
        } catch {
          continue;
        }
      }
      if (windows && /\.(cmd|bat)$/i.test(path)) {
        return { command: env.ComSpec ?? "cmd.exe", prefix: ["/d", "/s", "/c", path], path, cmdScript: true };
      }
      return { command: path, prefix: [], path };
    }
  }
  return undefined;
}
