/**
 * The daemon's side of detached interactive sessions: one channel per runner joins the agent's link
 * (whose agent holds the pseudo-terminal) to any number of viewers. The daemon keeps a scrollback copy so a
 * viewer that attaches sees the current screen at once; one read-write viewer holds the keyboard at a time.
 */
import { ByteRing } from "../../lib/byte_ring.ts";
import type { Logger } from "../../lib/log.ts";
import type { AgentMessage, ToAgentMessage } from "../../lib/schemas/link.ts";
import { type ToViewerMessage, viewerMessage } from "../../lib/schemas/pty.ts";

interface Viewer {
  id: string;
  name: string;
  readOnly: boolean;
  socket: WebSocket;
}

/** Home and clear screen: a redraw from the scrollback starts on a blank screen. */
const CLEAR = new TextEncoder().encode("\x1b[H\x1b[2J");

function send(socket: WebSocket, data: string | Uint8Array): void {
  if (socket.readyState !== WebSocket.OPEN) return;
  try {
    socket.send(data as string);
  } catch { /* closing */ }
}

export class PtyChannel {
  readonly ring: ByteRing;
  #agent?: WebSocket;
  #viewers = new Map<string, Viewer>();
  #holder?: string;
  #cols = 80;
  #rows = 24;
  #replayNext = false;
  exit?: { code: number | null; signal: string | null };

  constructor(readonly runnerId: number, scrollback: number, private log: Logger) {
    this.ring = new ByteRing(scrollback);
  }

  get live(): boolean {
    return this.#agent?.readyState === WebSocket.OPEN;
  }

  get viewerCount(): number {
    return this.#viewers.size;
  }

  #toViewers(msg: ToViewerMessage | Uint8Array): void {
    const data = msg instanceof Uint8Array ? msg : JSON.stringify(msg);
    for (const v of this.#viewers.values()) send(v.socket, data);
  }

  #keyboard(): void {
    const holder = this.#holder ? this.#viewers.get(this.#holder)?.name ?? null : null;
    this.#toViewers({ t: "keyboard", holder, viewers: this.#viewers.size });
  }

  /** The runner's agent link is up (daemon/link/links.ts): keys and sizes go to it from now on. */
  agentConnected(socket: WebSocket): void {
    this.#agent = socket;
  }

  /** Terminal output, a binary frame of the agent's link. */
  agentOutput(bytes: Uint8Array): void {
    if (this.#replayNext) {
      // The agent came back (a daemon restart, a dropped link): its scrollback is the truth; viewers
      // already here get the screen redrawn from it.
      this.#replayNext = false;
      this.ring.replace(bytes);
      const redraw = new Uint8Array(CLEAR.length + bytes.length);
      redraw.set(CLEAR);
      redraw.set(bytes, CLEAR.length);
      this.#toViewers(redraw);
      return;
    }
    this.ring.push(bytes);
    this.#toViewers(bytes);
  }

  /** The terminal's part of the agent's control messages. */
  agentMessage(msg: AgentMessage): void {
    if (msg.t === "hello") {
      if (msg.cols !== undefined && msg.rows !== undefined) {
        this.#cols = msg.cols;
        this.#rows = msg.rows;
      }
      this.#toViewers({ t: "agent", live: true });
      this.#toViewers({ t: "size", cols: this.#cols, rows: this.#rows });
    } else if (msg.t === "replay") this.#replayNext = true;
    else if (msg.t === "exit") {
      this.exit = { code: msg.code, signal: msg.signal };
      this.#toViewers({ t: "exit", ...this.exit });
      for (const v of this.#viewers.values()) v.socket.close(1000, "session ended");
    }
  }

  agentDisconnected(socket: WebSocket): void {
    if (this.#agent !== socket) return;
    this.#agent = undefined;
    this.#replayNext = false;
    if (!this.exit) this.#toViewers({ t: "agent", live: false });
  }

  addViewer(socket: WebSocket, opts: { readOnly: boolean; name: string }): void {
    const viewer: Viewer = { id: crypto.randomUUID(), socket, ...opts };
    socket.binaryType = "arraybuffer";
    socket.onopen = () => {
      this.#viewers.set(viewer.id, viewer);
      send(
        socket,
        JSON.stringify(
          {
            t: "hello",
            runner: this.runnerId,
            you: viewer.name,
            readOnly: viewer.readOnly,
            cols: this.#cols,
            rows: this.#rows,
            live: this.live,
          } satisfies ToViewerMessage,
        ),
      );
      send(socket, this.ring.snapshot());
      if (this.exit) {
        send(socket, JSON.stringify({ t: "exit", ...this.exit } satisfies ToViewerMessage));
        socket.close(1000, "session ended");
        return;
      }
      // The newest read-write viewer takes the keyboard, as the last tmux client does.
      if (!viewer.readOnly) this.#holder = viewer.id;
      this.#keyboard();
      this.log.info("viewer attached", {
        runner: this.runnerId,
        viewer: viewer.name,
        readOnly: viewer.readOnly,
      });
    };
    socket.onmessage = (e) => {
      const holds = this.#holder === viewer.id;
      if (typeof e.data !== "string") {
        if (holds && this.live) send(this.#agent!, new Uint8Array(e.data as ArrayBuffer));
        return;
      }
      let msg;
      try {
        msg = viewerMessage.parse(JSON.parse(e.data));
      } catch {
        return;
      }
      if (msg.t === "take" && !viewer.readOnly) {
        this.#holder = viewer.id;
        this.#keyboard();
      } else if (msg.t === "resize" && holds) {
        this.#cols = msg.cols;
        this.#rows = msg.rows;
        if (this.live) {
          const resize: ToAgentMessage = { t: "resize", cols: msg.cols, rows: msg.rows };
          send(this.#agent!, JSON.stringify(resize));
        }
        this.#toViewers({ t: "size", cols: msg.cols, rows: msg.rows });
      }
    };
    socket.onclose = () => {
      this.#viewers.delete(viewer.id);
      if (this.#holder === viewer.id) {
        this.#holder = [...this.#viewers.values()].find((v) => !v.readOnly)?.id;
      }
      this.#keyboard();
    };
  }

  closeAll(): void {
    for (const v of this.#viewers.values()) v.socket.close(1001, "daemon shutting down");
  }
}

export class PtyHub {
  #channels = new Map<number, PtyChannel>();
  constructor(private scrollback: number, private log: Logger) {}

  channel(runnerId: number): PtyChannel {
    let ch = this.#channels.get(runnerId);
    if (!ch) {
      ch = new PtyChannel(runnerId, this.scrollback, this.log);
      this.#channels.set(runnerId, ch);
    }
    return ch;
  }

  find(runnerId: number): PtyChannel | undefined {
    return this.#channels.get(runnerId);
  }

  /** Forgets ended sessions nobody watches (their output stays in the runner's log file). */
  prune(isActive: (runnerId: number) => boolean): void {
    for (const [id, ch] of this.#channels) {
      if (ch.exit && ch.viewerCount === 0 && !isActive(id)) this.#channels.delete(id);
    }
  }

  closeAll(): void {
    for (const ch of this.#channels.values()) ch.closeAll();
  }
}
