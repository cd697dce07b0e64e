/**
 * The terminal of a detached interactive runner (xterm.js), through the daemon's attach WebSocket. It
 * watches read-only by default, so opening the page never steals the keyboard from someone attached in a
 * terminal; "Take the keyboard" reconnects read-write (the newest read-write viewer holds the keyboard)
 * and "Watch only" gives it back. The screen follows the session's size rather than resizing it.
 */
import { useEffect, useRef, useState } from "preact/hooks";
import { html } from "htm/preact";
import { Terminal } from "@xterm/xterm";
import type { ToViewerMessage } from "../../../lib/schemas/pty.ts";
import type { Runner } from "../../../lib/schemas/runner.ts";
import { auth } from "../api.ts";

type Mode = "ro" | "rw";
type Link =
  | { kind: "connecting" }
  | { kind: "open"; live: boolean; holder: string | null; viewers: number; you: string }
  | { kind: "ended"; text: string }
  | { kind: "closed"; text: string };

const VIEWER_NAME = "web";

function attachUrl(id: number, mode: Mode): string {
  const u = new URL(`/api/v1/runners/${id}/attach`, location.href);
  u.protocol = location.protocol === "https:" ? "wss:" : "ws:";
  u.searchParams.set("mode", mode);
  u.searchParams.set("name", VIEWER_NAME);
  u.searchParams.set("access_token", auth.token ?? "");
  return u.toString();
}

function exitText(m: { code: number | null; signal: string | null }): string {
  return m.signal ? `the session ended by signal ${m.signal}` : `the session ended with exit code ${m.code}`;
}

export function TerminalView({ runner }: { runner: Runner }) {
  const host = useRef<HTMLDivElement>(null);
  const term = useRef<Terminal | null>(null);
  const [mode, setMode] = useState<Mode>("ro");
  const [link, setLink] = useState<Link>({ kind: "connecting" });

  useEffect(() => {
    const t = new Terminal({
      convertEol: false,
      cursorBlink: false,
      disableStdin: true,
      fontFamily: "ui-monospace, SFMono-Regular, Menlo, Consolas, 'Liberation Mono', monospace",
      fontSize: 13,
      scrollback: 5000,
    });
    t.open(host.current!);
    term.current = t;
    return () => {
      term.current = null;
      t.dispose();
    };
  }, [runner.id]);

  useEffect(() => {
    const t = term.current!;
    t.reset();
    t.options.disableStdin = mode === "ro";
    setLink({ kind: "connecting" });
    const ws = new WebSocket(attachUrl(runner.id, mode));
    ws.binaryType = "arraybuffer";
    let you = VIEWER_NAME;
    let live = false;
    let ended = false;
    const encoder = new TextEncoder();
    const typed = t.onData((data) => {
      if (mode === "rw" && ws.readyState === WebSocket.OPEN) ws.send(encoder.encode(data));
    });
    ws.onmessage = (e) => {
      if (typeof e.data !== "string") {
        t.write(new Uint8Array(e.data as ArrayBuffer));
        return;
      }
      const m = JSON.parse(e.data) as ToViewerMessage;
      if (m.t === "hello") {
        you = m.you;
        live = m.live;
        t.resize(m.cols, m.rows);
        setLink({ kind: "open", live, holder: null, viewers: 1, you });
      } else if (m.t === "size") {
        t.resize(m.cols, m.rows);
      } else if (m.t === "keyboard") {
        setLink({ kind: "open", live, holder: m.holder, viewers: m.viewers, you });
      } else if (m.t === "agent") {
        live = m.live;
        setLink((l) => (l.kind === "open" ? { ...l, live } : l));
      } else if (m.t === "exit") {
        ended = true;
        setLink({ kind: "ended", text: exitText(m) });
      }
    };
    ws.onclose = (e) => {
      if (ended) return;
      setLink({
        kind: "closed",
        text: e.code === 1000 || e.code === 1001
          ? `disconnected (${e.reason || "closed"})`
          : "the terminal connection was refused or lost; reload the page to try again",
      });
    };
    if (mode === "rw") t.focus();
    return () => {
      typed.dispose();
      ws.onmessage = null;
      ws.onclose = null;
      ws.close(1000, "viewer left");
    };
  }, [runner.id, mode]);

  const open = link.kind === "open" ? link : null;
  const holding = open !== null && mode === "rw" && open.holder === open.you;
  const status = link.kind === "connecting"
    ? "connecting…"
    : link.kind !== "open"
    ? link.text
    : !link.live
    ? "the agent is reconnecting; the screen is from its last connection"
    : holding
    ? "you hold the keyboard: keys go to the session"
    : link.holder
    ? `watching; ${link.holder} holds the keyboard`
    : "watching; nobody holds the keyboard";

  return html`
    <section class="card" aria-labelledby="terminal-title">
      <div class="section-head">
        <h2 id="terminal-title">Terminal</h2>
        <span class="muted small" role="status" data-terminal-status=${link.kind}>${status}</span>
        ${mode === "ro"
          ? html`
            <button type="button" class="secondary" data-take-keyboard disabled=${link.kind !== "open"}
              onClick=${() => setMode("rw")}>Take the keyboard</button>
          `
          : html`<button type="button" class="secondary" data-watch-only onClick=${() =>
            setMode("ro")}>Watch only</button>`}
      </div>
      <div class="terminal" ref=${host} data-terminal=${runner.id}
        aria-label=${`Terminal of runner ${runner.id}${mode === "ro" ? " (read-only)" : ""}`}></div>
    </section>
  `;
}
