/**
 * Windows runs a `.cmd` or `.bat` script (npm installs `claude` as claude.cmd) through `cmd.exe /c`, and
 * cmd.exe parses its command line again by its own rules: `&`, `|`, `<`, `>`, `^` and `%` outside quotes
 * act, and it knows nothing of the `\"` escapes ordinary argument quoting uses. A prompt holding `"&calc`
 * then ran calc. So the whole line after `/c` is built here: each argument quoted as a C runtime expects,
 * then every cmd metacharacter escaped with `^` (twice when the script hands its arguments on through `%*`,
 * as npm's shims do, because cmd parses them once more there). The result is passed verbatim
 * (Deno's windowsRawArguments). The same scheme as the cross-spawn package.
 */

const META = /([()\][%!^"`<>&|;, *?])/g;

/** One argument for a cmd.exe command line. */
export function quoteCmdArgument(arg: string, doubleEscape: boolean): string {
  // Backslashes before a quote are doubled and the quote escaped; trailing ones doubled (a quote follows).
  let a = arg.replace(/(\\*)"/g, '$1$1\\"').replace(/(\\*)$/, "$1$1");
  a = `"${a}"`.replace(META, "^$1");
  return doubleEscape ? a.replace(META, "^$1") : a;
}

/** The script's path for a cmd.exe command line. */
export function quoteCmdCommand(path: string): string {
  return path.replace(META, "^$1");
}

/** What follows `cmd.exe` to run `script args…` with every argument arriving as given. */
export function cmdArguments(script: string, args: string[], doubleEscape: boolean): string {
  const line = [quoteCmdCommand(script), ...args.map((a) => quoteCmdArgument(a, doubleEscape))].join(" ");
  return `/d /s /c "${line}"`;
}

/** npm's shims (and any script that passes `%*` on) make cmd.exe parse their arguments a second time. */
export function passesArgumentsOn(scriptText: string): boolean {
  return scriptText.includes("%*");
}
