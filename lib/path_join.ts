/**
 * node:path's join (POSIX and Windows flavours), without node:path: loading any node: built-in costs a Deno
 * process ~1.5 MB of RSS, and the agent, which runs beside every session all day, needs only join. Same
 * results as node:path's posix.join and win32.join (tests/lib/path_join_test.ts compares them), except for
 * Windows paths with a colon other than a drive's (NTFS streams, device names such as `CON:`) and edge cases
 * of the `\\?\` and `\\.\` namespaces, where node:path guards against device paths (`\\?\C:\dir` joins alike).
 */

type Os = typeof Deno.build.os;

/**
 * The segments of `path` with `.` and empty ones dropped and `..` applied; a `..` above the start is kept
 * for a relative path and dropped for a rooted one.
 */
function resolveDots(path: string, separator: RegExp, rooted: boolean): string[] {
  const out: string[] = [];
  for (const s of path.split(separator)) {
    if (s === "" || s === ".") continue;
    if (s !== "..") out.push(s);
    else if (out.length > 0 && out[out.length - 1] !== "..") out.pop();
    else if (!rooted) out.push("..");
  }
  return out;
}

/** As node:path's posix.join. */
export function joinPosix(...parts: string[]): string {
  const path = parts.filter((p) => p !== "").join("/");
  if (path === "") return ".";
  const rooted = path.startsWith("/");
  const trailing = path.endsWith("/");
  const tail = resolveDots(path, /\/+/, rooted).join("/");
  if (tail === "") return rooted ? "/" : trailing ? "./" : ".";
  return (rooted ? "/" : "") + tail + (trailing ? "/" : "");
}

const WIN_SEP = /[\\/]+/;
const isWinSep = (c: string | undefined) => c === "\\" || c === "/";

/** As node:path's win32.join: either slash separates, `\` is written. */
export function joinWindows(...parts: string[]): string {
  const given = parts.filter((p) => p !== "");
  if (given.length === 0) return ".";
  let path = given.join("\\");
  // A leading pair of separators means a UNC path (\\server\share) only when the first part meant one:
  // exactly two, then a name. Otherwise, like node:path, the run of leading separators becomes one.
  if (!/^[\\/]{2}[^\\/]/.test(given[0])) path = path.replace(/^[\\/]{2,}/, "\\");
  return normalizeWindows(path);
}

/** node:path's win32.normalize of a non-empty path: its root (drive, UNC share, `\`) and the rest resolved. */
function normalizeWindows(path: string): string {
  if (path.length === 1) return isWinSep(path) ? "\\" : path;
  let device = "";
  let rooted = false;
  let rest = path;
  const unc = /^[\\/]{2}([^\\/]+)[\\/]+([^\\/]+)/.exec(path);
  if (unc) {
    // The share's root: `\\server\share` and nothing after it is written with a closing separator.
    if (unc[0].length === path.length) return `\\\\${unc[1]}\\${unc[2]}\\`;
    device = `\\\\${unc[1]}\\${unc[2]}`;
    rooted = true;
    rest = path.slice(unc[0].length);
  } else if (isWinSep(path[0])) {
    rooted = true;
    rest = path.slice(1);
  } else if (/^[A-Za-z]:/.test(path)) {
    device = path.slice(0, 2);
    rooted = isWinSep(path[2]);
    rest = path.slice(rooted ? 3 : 2);
  }
  let tail = resolveDots(rest, WIN_SEP, rooted).join("\\");
  if (tail === "" && !rooted) tail = ".";
  if (tail !== "" && isWinSep(path[path.length - 1])) tail += "\\";
  return device + (rooted ? "\\" : "") + tail;
}

/** The join of paths for `os` (this system's by default). */
export function joinFor(os: Os = Deno.build.os): (...parts: string[]) => string {
  return os === "windows" ? joinWindows : joinPosix;
}

/** Joins paths of this system, as node:path's join. */
export const join: (...parts: string[]) => string = joinFor();
