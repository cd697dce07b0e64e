/** lib/path_join.ts joins as node:path does, on both systems, for ordinary and odd paths alike. */
import { posix, win32 } from "node:path";
import { assertEquals } from "../helpers/assert.ts";
import { joinPosix, joinWindows } from "../../lib/path_join.ts";
import { rng } from "../helpers/rng.ts";

/**
 * Pieces paths are made of, odd ones included: dots, spaces, doubled and mixed separators. Roots (drives,
 * UNC shares) begin only a first part: lib/path_join.ts does not follow node:path's handling of other colons
 * (NTFS streams, device names like CON:) and of the \\?\ and \\.\ namespaces, which no Claude Code folder is.
 */
const ROOTS = [
  "",
  "",
  "/",
  "\\",
  "//",
  "\\\\",
  "///",
  "C:",
  "c:\\",
  "C:/",
  "\\\\srv\\share",
  "//srv/share/",
  "//srv",
];
const ATOMS = ["", ".", "..", "...", "a", "b.c", " ", "/", "\\", "//", "\\\\", ".claude", "naïve 🚀"];

Deno.test("path join: the paths Stratavore joins, as node:path joins them", () => {
  const cases = [
    ["/home/ada", ".claude"],
    ["/home/ada/", ".config", "claude"],
    ["/c2/", "projects", "-w-my-app", "id.jsonl"],
    ["C:\\Users\\Ada", ".claude"],
    ["C:/Users/Ada/", ".config", "claude"],
    ["C:\\Users\\a\\.claude", "projects", "C--src-api", "id.jsonl"],
    ["\\\\server\\home\\ada", ".claude", "settings.json"],
    ["relative/dir", "..", "x"],
    [],
    [""],
  ];
  for (const parts of cases) {
    assertEquals(joinPosix(...parts), posix.join(...parts), `posix ${JSON.stringify(parts)}`);
    assertEquals(joinWindows(...parts), win32.join(...parts), `win32 ${JSON.stringify(parts)}`);
  }
});

Deno.test("path join: 50,000 generated paths join as with node:path (posix and win32)", () => {
  const random = rng(7);
  const pick = () => ATOMS[Math.floor(random() * ATOMS.length)];
  const wrong: string[] = [];
  for (let i = 0; i < 50_000 && wrong.length < 10; i++) {
    const parts = Array.from(
      { length: 1 + Math.floor(random() * 4) },
      () => Array.from({ length: 1 + Math.floor(random() * 3) }, pick).join(""),
    );
    parts[0] = ROOTS[Math.floor(random() * ROOTS.length)] + parts[0];
    if (/^[\\/]{2}[.?]([\\/]|$)/.test(parts[0])) continue; // the \\.\ and \\?\ namespaces
    if (joinPosix(...parts) !== posix.join(...parts)) wrong.push(`posix ${JSON.stringify(parts)}`);
    if (joinWindows(...parts) !== win32.join(...parts)) wrong.push(`win32 ${JSON.stringify(parts)}`);
  }
  assertEquals(wrong, []);
});
