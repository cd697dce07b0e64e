/**
 * Windows .cmd scripts run through `cmd.exe /c`, which re-parses the line: with ordinary quoting `"&…` in
 * a prompt ran a command. The line built here is checked by replaying what cmd.exe (caret escapes, then
 * `%*` once more for npm shims) and the C runtime (CommandLineToArgvW) do to it.
 */
import { assert, assertEquals } from "../helpers/assert.ts";
import { cmdArguments, passesArgumentsOn } from "../../lib/cmd_quote.ts";

/** cmd.exe's pass over a line whose quotes are all ^-escaped: `^x` becomes `x`; an unescaped metachar acts. */
function cmdPass(line: string): string {
  let out = "";
  for (let i = 0; i < line.length; i++) {
    const ch = line[i];
    if (ch === "^") {
      out += line[++i] ?? "";
      continue;
    }
    if ("&|<>".includes(ch)) throw new Error(`cmd.exe would act on an unescaped ${ch} in ${line}`);
    out += ch;
  }
  return out;
}

/** The C runtime's split of a command line (CommandLineToArgvW's rules). */
function argv(line: string): string[] {
  const args: string[] = [];
  let i = 0;
  while (i < line.length) {
    while (line[i] === " ") i++;
    if (i >= line.length) break;
    let arg = "";
    let quoted = false;
    for (; i < line.length; i++) {
      const ch = line[i];
      if (ch === "\\") {
        let n = 0;
        while (line[i] === "\\") (n++, i++);
        if (line[i] === '"') {
          arg += "\\".repeat(Math.floor(n / 2));
          if (n % 2 === 1) arg += '"';
          else {
            quoted = !quoted;
          }
        } else {
          arg += "\\".repeat(n);
          i--;
        }
      } else if (ch === '"') quoted = !quoted;
      else if (ch === " " && !quoted) break;
      else arg += ch;
    }
    args.push(arg);
  }
  return args;
}

const NASTY = [
  "plain",
  "two words",
  '"&calc',
  'a"&calc&"b',
  "x | del *",
  "%PATH%",
  "!VAR!",
  "^^",
  "trailing\\",
  'back\\"slash',
  "<in >out",
  "(paren)",
  "",
  "ünïcödé",
];

Deno.test("cmd quoting: every argument reaches the script as given, and nothing is run by cmd.exe", () => {
  const script = "C:\\Users\\ada\\AppData\\Roaming\\npm\\claude.cmd";
  for (const doubleEscape of [false, true]) {
    const line = cmdArguments(script, NASTY, doubleEscape);
    assert(line.startsWith('/d /s /c "') && line.endsWith('"'));
    // /s: cmd.exe strips the outer quotes, then parses the rest.
    let inner = cmdPass(line.slice('/d /s /c "'.length, -1));
    // An npm shim hands its arguments on through %*, which cmd.exe parses once more.
    if (doubleEscape) inner = cmdPass(inner);
    assertEquals(argv(inner), [script, ...NASTY]);
  }
});

Deno.test("cmd quoting: npm shims pass their arguments on (%*)", () => {
  assert(passesArgumentsOn('@IF EXIST "%dp0%\\node.exe" ( "%dp0%\\node.exe" "%dp0%\\cli.js" %* )'));
  assert(!passesArgumentsOn("@echo off\r\necho hi"));
});

Deno.test("cmd quoting: a .cmd script is started with one verbatim, cmd-quoted command line", async () => {
  const { spawnArgs } = await import("../../lib/which.ts");
  const dir = await Deno.makeTempDir();
  try {
    await Deno.writeTextFile(`${dir}/claude.cmd`, '@"%~dp0\\node.exe" "%~dp0\\cli.js" %*\r\n');
    // (which() builds Windows paths with "\\", so the resolved script is given here as it would return it.)
    const path = `${dir}/claude.cmd`;
    const resolved = { command: "cmd.exe", prefix: ["/d", "/s", "/c", path], path, cmdScript: true };
    const spawn = spawnArgs(resolved, ['"&calc']);
    assertEquals(spawn.windowsRawArguments, true);
    assertEquals(spawn.args.length, 1);
    assertEquals(argv(cmdPass(cmdPass(spawn.args[0].slice('/d /s /c "'.length, -1)))), [
      resolved.path,
      '"&calc',
    ]);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
