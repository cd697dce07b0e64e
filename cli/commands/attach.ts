/**
 * `stratavore attach <runner> [--read-only]`: this terminal becomes the detached session's terminal, through
 * the daemon. The screen is redrawn from the session's scrollback, keys go to the session (typing takes
 * the keyboard from another viewer), resizes are passed on, and the detach key (default Ctrl-]) leaves the
 * session running. When the session ends, the exit code is printed.
 */
import { AppError } from "../../lib/errors.ts";
import { toViewerMessage } from "../../lib/schemas/pty.ts";
import { parseRunnerId } from "../args.ts";
import { connect } from "../connect.ts";
import { contextFrom, type GlobalOptions } from "../../lib/startup.ts";
import { loadTerminalClient } from "../../lib/ws.ts";

const enc = new TextEncoder();

/** "ctrl-]" → 0x1d, "ctrl-q" → 0x11. */
export function detachByte(key: string): number {
  const c = key.slice(5).toLowerCase();
  return c.charCodeAt(0) & 0x1f;
}

function write(text: string | Uint8Array): void {
  let bytes = typeof text === "string" ? enc.encode(text) : text;
  while (bytes.length) bytes = bytes.subarray(Deno.stdout.writeSync(bytes));
}

export async function attachCommand(
  idText: string,
  opts: GlobalOptions & { readOnly?: boolean },
): Promise<number> {
  const ctx = contextFrom(opts);
  const id = parseRunnerId(idText);
  const readOnly = opts.readOnly === true;
  if (!Deno.stdout.isTerminal() || (!readOnly && !Deno.stdin.isTerminal())) {
    throw new AppError(
      "usage",
      'attach needs a terminal (use "stratavore logs <runner> -f" to read its output instead)',
    );
  }
  const client = await connect(ctx);
  const runner = await client.getRunner(id);
  if (runner.mode !== "pty") {
    throw new AppError(
      "failed",
      `runner ${id} has no terminal: only runners launched with --detach (without --prompt) have one`,
    );
  }
  const key = ctx.loaded.config.detachKey;
  const detach = detachByte(key);
  const name = `${Deno.env.get("USER") ?? Deno.env.get("USERNAME") ?? "user"}@${Deno.hostname()}`.replace(
    /[^\w.@:-]/g,
    "-",
  );
  await loadTerminalClient(); // keystrokes: TCP_NODELAY (lib/ws.ts)
  const socket = client.webSocket(`/api/v1/runners/${id}/attach`, { mode: readOnly ? "ro" : "rw", name });
  socket.binaryType = "arraybuffer";

  let holder: string | null = null;
  let exit: { code: number | null; signal: string | null } | undefined;
  let raw = false;
  const size = () => {
    try {
      return Deno.consoleSize();
    } catch {
      return { columns: 80, rows: 24 };
    }
  };
  let known = size();
  const sendSize = () => {
    if (!readOnly && socket.readyState === WebSocket.OPEN) {
      socket.send(JSON.stringify({ t: "resize", cols: known.columns, rows: known.rows }));
    }
  };
  const resized = () => {
    const now = size();
    if (now.columns !== known.columns || now.rows !== known.rows) {
      known = now;
      sendSize();
    }
  };
  const poll = setInterval(resized, 300);
  const onWinch = () => resized();
  if (Deno.build.os !== "windows") Deno.addSignalListener("SIGWINCH", onWinch);

  const restore = () => {
    clearInterval(poll);
    if (Deno.build.os !== "windows") {
      try {
        Deno.removeSignalListener("SIGWINCH", onWinch);
      } catch { /* gone */ }
    }
    if (raw) {
      raw = false;
      try {
        Deno.stdin.setRaw(false);
      } catch { /* gone */ }
    }
  };
  globalThis.addEventListener("unload", restore);

  const closed = new Promise<{ code: number; reason: string }>((resolve) => {
    socket.onclose = (e) => resolve({ code: e.code, reason: e.reason });
    socket.onerror = () => {};
  });
  const opened = new Promise<boolean>((resolve) => {
    socket.onopen = () => resolve(true);
    closed.then(() => resolve(false));
  });
  socket.onmessage = (e) => {
    if (typeof e.data !== "string") return write(new Uint8Array(e.data as ArrayBuffer));
    const parsed = toViewerMessage.safeParse(JSON.parse(e.data));
    if (!parsed.success) return;
    const m = parsed.data;
    if (m.t === "keyboard" && m.holder !== holder) {
      holder = m.holder;
      if (!readOnly && holder && holder !== name) {
        write(`\r\n[stratavore: ${holder} has the keyboard; type to take it back]\r\n`);
      }
    } else if (m.t === "agent" && !m.live) {
      write("\r\n[stratavore: the session's agent is reconnecting…]\r\n");
    } else if (m.t === "exit") exit = { code: m.code, signal: m.signal };
  };

  if (!(await opened)) {
    restore();
    const { reason } = await closed;
    throw new AppError("failed", `could not attach to runner ${id}${reason ? `: ${reason}` : ""}`);
  }
  if (!readOnly) {
    Deno.stdin.setRaw(true);
    raw = true;
    sendSize();
  }

  let detached = false;
  const reading = (async () => {
    if (readOnly && !Deno.stdin.isTerminal()) return;
    if (readOnly) {
      Deno.stdin.setRaw(true);
      raw = true;
    }
    const buf = new Uint8Array(4096);
    while (socket.readyState === WebSocket.OPEN) {
      const n = await Deno.stdin.read(buf);
      if (n === null) break;
      const chunk = buf.subarray(0, n);
      const at = chunk.indexOf(detach);
      const keys = at >= 0 ? chunk.subarray(0, at) : chunk;
      if (!readOnly && keys.length && socket.readyState === WebSocket.OPEN) {
        if (holder !== name) socket.send(JSON.stringify({ t: "take" }));
        socket.send(keys.slice());
      }
      if (at >= 0) {
        detached = true;
        socket.close(1000, "detached");
        break;
      }
    }
  })();

  await closed;
  restore();
  if (exit) {
    write(
      `\r\n[stratavore: runner ${id} ended, exit code ${exit.code ?? "none"}${
        exit.signal ? ` (${exit.signal})` : ""
      }]\r\n`,
    );
    // Like a session run in this terminal: its exit code is ours (a signal counts as a failure).
    void reading;
    return exit.code ?? (exit.signal ? 1 : 0);
  } else if (detached) {
    write(`\r\n[stratavore: detached from runner ${id}; it keeps running — stratavore attach ${id}]\r\n`);
  } else {
    write(`\r\n[stratavore: the connection to the daemon closed]\r\n`);
    return 1;
  }
  // stdin.read cannot be interrupted; the process exits right after, which ends it.
  void reading;
  return 0;
}
