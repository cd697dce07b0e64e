/**
 * A full-screen terminal session: raw keys, the alternate screen, a hidden cursor, and resize notices.
 * Portable (Windows Terminal and PowerShell included): only Deno.stdin.setRaw, ANSI sequences and
 * Deno.consoleSize; SIGWINCH is used where it exists and the size is polled everywhere else.
 * The terminal is restored on every way out: normal exit, Ctrl-C, an uncaught error.
 */

const enc = new TextEncoder();
const ENTER_SCREEN = "\x1b[?1049h\x1b[?25l\x1b[H\x1b[2J";
const LEAVE_SCREEN = "\x1b[?25h\x1b[?1049l";

export type Key =
  | "up"
  | "down"
  | "enter"
  | "escape"
  | "ctrl-c"
  | { char: string };

/** Splits raw input bytes into keys (arrow keys arrive as escape sequences). */
export function parseKeys(bytes: Uint8Array): Key[] {
  const text = new TextDecoder().decode(bytes);
  const keys: Key[] = [];
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (c === "\x1b") {
      const seq = text.slice(i, i + 3);
      if (seq === "\x1b[A" || seq === "\x1bOA") {
        keys.push("up");
        i += 2;
      } else if (seq === "\x1b[B" || seq === "\x1bOB") {
        keys.push("down");
        i += 2;
      } else if (text[i + 1] === "[") {
        // another CSI sequence: skip to its final byte
        let j = i + 2;
        while (j < text.length && !/[@-~]/.test(text[j])) j++;
        i = j;
      } else keys.push("escape");
    } else if (c === "\r" || c === "\n") keys.push("enter");
    else if (c === "\x03") keys.push("ctrl-c");
    else keys.push({ char: c });
  }
  return keys;
}

export interface Screen {
  size(): { columns: number; rows: number };
  draw(lines: string[]): void;
  keys(): AsyncGenerator<Key>;
  onResize(fn: () => void): void;
  restore(): void;
}

export function openScreen(): Screen {
  let restored = false;
  const resizeHandlers: (() => void)[] = [];
  let last = "";
  const write = (s: string) => {
    try {
      Deno.stdout.writeSync(enc.encode(s));
    } catch { /* terminal gone */ }
  };
  const size = () => {
    try {
      return Deno.consoleSize();
    } catch {
      return { columns: 80, rows: 24 };
    }
  };

  Deno.stdin.setRaw(true);
  write(ENTER_SCREEN);

  let known = size();
  const resized = () => {
    const now = size();
    if (now.columns === known.columns && now.rows === known.rows) return;
    known = now;
    last = "";
    for (const fn of resizeHandlers) fn();
  };
  const poll = setInterval(resized, 250);
  let onWinch: (() => void) | undefined;
  if (Deno.build.os !== "windows") {
    onWinch = resized;
    try {
      Deno.addSignalListener("SIGWINCH", onWinch);
    } catch {
      onWinch = undefined;
    }
  }

  const restore = () => {
    if (restored) return;
    restored = true;
    clearInterval(poll);
    if (onWinch) {
      try {
        Deno.removeSignalListener("SIGWINCH", onWinch);
      } catch { /* gone */ }
    }
    write(LEAVE_SCREEN);
    try {
      Deno.stdin.setRaw(false);
    } catch { /* not a terminal any more */ }
  };
  // A crash must not leave the terminal raw and on the alternate screen.
  globalThis.addEventListener("unload", restore);
  globalThis.addEventListener("error", restore);
  globalThis.addEventListener("unhandledrejection", restore);

  return {
    size,
    draw(lines) {
      const { rows } = size();
      const frame = "\x1b[H" + lines.slice(0, rows).map((l) => l + "\x1b[K").join("\r\n") + "\x1b[J";
      if (frame !== last) write(frame);
      last = frame;
    },
    async *keys() {
      const buf = new Uint8Array(64);
      while (!restored) {
        const n = await Deno.stdin.read(buf);
        if (n === null) return;
        yield* parseKeys(buf.subarray(0, n));
      }
    },
    onResize(fn) {
      resizeHandlers.push(fn);
    },
    restore,
  };
}
