/**
 * The agent's connection out to the daemon for a detached interactive runner: terminal output goes up,
 * keys and size changes come down. The agent keeps the scrollback itself, so after a reconnect (a daemon
 * restart) it sends the whole screen again before the live stream, and viewers see it as it was.
 */
import { ByteRing } from "../lib/byte_ring.ts";
import { connectSocket, OPEN, type SocketLike } from "../lib/ws.ts";
import type { Logger } from "../lib/log.ts";
import { toAgentMessage } from "../lib/schemas/pty.ts";
import type { PtyChild } from "./pty_child.ts";

export class PtyLink {
  #url: string;
  #token: string;
  #child: PtyChild;
  #ring: ByteRing;
  #log: Logger;
  #socket?: SocketLike;
  #closed = false;
  #failures = 0;
  #opened?: () => void;
  /** Resolves once the first connection is up (or when closed). */
  readonly ready: Promise<void>;

  constructor(
    opts: { url: string; runnerId: number; token: string; child: PtyChild; scrollback: number; log: Logger },
  ) {
    const u = new URL(opts.url.replace(/^http/, "ws"));
    u.pathname = `/api/v1/runners/${opts.runnerId}/pty`;
    this.#url = u.toString();
    this.#token = opts.token;
    this.#child = opts.child;
    this.#ring = new ByteRing(opts.scrollback);
    this.#log = opts.log;
    this.ready = new Promise((r) => (this.#opened = r));
    opts.child.onOutput((bytes) => this.#output(bytes));
  }

  /** Output also goes to the ring (and the caller's log), whether or not the daemon is connected. */
  #output(bytes: Uint8Array): void {
    this.#ring.push(bytes);
    if (this.#socket?.readyState === OPEN) this.#socket.send(bytes);
  }

  start(): void {
    if (this.#closed) return;
    const socket = connectSocket(this.#url, { authorization: `Bearer ${this.#token}` });
    this.#socket = socket;
    socket.onopen = () => {
      if (this.#failures > 0) {
        this.#log.info("terminal link to the daemon is back", { attempts: this.#failures });
      }
      this.#failures = 0;
      socket.send(
        JSON.stringify({ t: "hello", cols: this.#child.cols, rows: this.#child.rows, pid: this.#child.pid }),
      );
      socket.send(JSON.stringify({ t: "replay" }));
      socket.send(this.#ring.snapshot());
      this.#opened?.();
    };
    socket.onmessage = (e) => {
      if (typeof e.data !== "string") {
        this.#child.write(new Uint8Array(e.data as ArrayBuffer));
        return;
      }
      try {
        const msg = toAgentMessage.parse(JSON.parse(e.data));
        if (msg.t === "resize") this.#child.resize(msg.cols, msg.rows);
      } catch { /* unknown control message: ignore */ }
    };
    socket.onerror = () => {};
    socket.onclose = () => {
      if (this.#closed) return;
      this.#failures++;
      if (this.#failures === 1) this.#log.warn("terminal link to the daemon lost; the session keeps running");
      const delay = Math.min(5000, 250 * 2 ** Math.min(this.#failures, 5));
      setTimeout(() => this.start(), delay);
    };
  }

  /** Tells viewers how the session ended, then closes. */
  async finish(code: number | null, signal: string | null): Promise<void> {
    this.#closed = true;
    const socket = this.#socket;
    if (socket?.readyState === OPEN) {
      socket.send(JSON.stringify({ t: "exit", code, signal }));
      await new Promise((r) => setTimeout(r, 50)); // let the frame leave before the close
      socket.close(1000, "session ended");
    }
    this.#opened?.();
  }
}
