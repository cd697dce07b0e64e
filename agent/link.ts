/**
 * The agent's link to its daemon, kept open for the whole session whatever the kind of runner: a WebSocket
 * (lib/schemas/link.ts) on which the daemon says the runner's state first, on every (re)connect, then
 * commands (stop, kill) the moment they are decided. It reconnects with backoff while the daemon is away;
 * heartbeats stay the fallback meanwhile. For a detached interactive runner the link also carries the
 * terminal: output goes up, keys and size changes come down. The agent keeps the scrollback itself, so
 * after a reconnect it sends the whole screen again before the live stream, and viewers see it as it was.
 */
import { ByteRing } from "../lib/byte_ring.ts";
import type { Logger } from "../lib/log.ts";
import type { AgentMessage, ToAgentMessage } from "../lib/schemas/link.ts";
import { RUNNER_STATES, type RunnerState } from "../lib/runner_states.ts";
import { connectSocket, OPEN, refusedStatus, type SocketLike } from "../lib/ws.ts";
import type { PtyChild } from "./pty_child.ts";

/**
 * A daemon → agent message (lib/schemas/link.ts toAgentMessage), checked by hand: the agent loads no zod
 * (tests/agent/link_message_test.ts holds this check to the schema). Undefined for anything else.
 */
export function toAgentMessageOf(data: unknown): ToAgentMessage | undefined {
  if (typeof data !== "object" || data === null) return undefined;
  const m = data as Record<string, unknown>;
  const reason = m.reason === null || (typeof m.reason === "string" && m.reason.length <= 2000);
  const size = (v: unknown) => Number.isInteger(v) && (v as number) >= 1 && (v as number) <= 1000;
  switch (m.t) {
    case "state":
      return (RUNNER_STATES as readonly unknown[]).includes(m.state) &&
          typeof m.stopRequested === "boolean" &&
          reason
        ? {
          t: "state",
          state: m.state as RunnerState,
          stopRequested: m.stopRequested,
          reason: m.reason as string | null,
        }
        : undefined;
    case "stop":
    case "kill":
      return reason ? { t: m.t, reason: m.reason as string | null } : undefined;
    case "resize":
      return size(m.cols) && size(m.rows)
        ? { t: "resize", cols: m.cols as number, rows: m.rows as number }
        : undefined;
    default:
      return undefined;
  }
}

export interface LinkOptions {
  url: string;
  runnerId: number;
  token: string;
  pid: number;
  /** The pseudo-terminal of a detached interactive runner, and how much of its output to keep. */
  terminal?: { child: PtyChild; scrollback: number };
  log: Logger;
  /** The runner's state and the daemon's commands (resizes are handled here). */
  onMessage(msg: Exclude<ToAgentMessage, { t: "resize" }>): void;
  /** The daemon accepted the link (so the runner's token works). */
  onUp?(): void;
  /**
   * The daemon refused the link with this HTTP status (a revoked token, a deleted runner): the caller asks
   * through the API why, where the answer carries its JSON error.
   */
  onRefused?(status: number): void;
}

const MAX_DELAY_MS = 3000;
const REFUSED_MAX_DELAY_MS = 30_000;

export class AgentLink {
  #o: LinkOptions;
  #url: string;
  #ring?: ByteRing;
  #socket?: SocketLike;
  /** This connection has had its state and sent its scrollback: live output may follow. */
  #synced = false;
  #closed = false;
  #failures = 0;
  #retry?: ReturnType<typeof setTimeout>;

  constructor(o: LinkOptions) {
    this.#o = o;
    const u = new URL(o.url.replace(/^http/, "ws"));
    u.pathname = `/api/v1/runners/${o.runnerId}/link`;
    this.#url = u.toString();
    if (o.terminal) {
      this.#ring = new ByteRing(o.terminal.scrollback);
      o.terminal.child.onOutput((bytes) => this.#output(bytes));
    }
  }

  get connected(): boolean {
    return this.#socket?.readyState === OPEN;
  }

  /** Output also goes to the ring, whether or not the daemon is connected. */
  #output(bytes: Uint8Array): void {
    this.#ring!.push(bytes);
    if (this.#synced && this.#socket?.readyState === OPEN) this.#socket.send(bytes);
  }

  #send(msg: AgentMessage): void {
    if (this.#socket?.readyState === OPEN) this.#socket.send(JSON.stringify(msg));
  }

  start(): void {
    if (this.#closed) return;
    const socket = connectSocket(this.#url, { authorization: `Bearer ${this.#o.token}` });
    this.#socket = socket;
    this.#synced = false;
    let refused: number | undefined;
    socket.onopen = () => {
      if (this.#failures > 0) this.#o.log.info("link to the daemon is back", { attempts: this.#failures });
      this.#failures = 0;
      this.#o.onUp?.();
      const t = this.#o.terminal?.child;
      this.#send({ t: "hello", pid: this.#o.pid, ...(t ? { cols: t.cols, rows: t.rows } : {}) });
    };
    socket.onmessage = (e) => {
      if (typeof e.data !== "string") {
        this.#o.terminal?.child.write(new Uint8Array(e.data as ArrayBuffer));
        return;
      }
      let msg: ToAgentMessage | undefined;
      try {
        msg = toAgentMessageOf(JSON.parse(e.data));
      } catch { /* not JSON */ }
      if (!msg) return; // a message this agent does not know (a newer daemon): ignored
      if (msg.t === "resize") {
        this.#o.terminal?.child.resize(msg.cols, msg.rows);
        return;
      }
      this.#o.onMessage(msg);
      if (msg.t === "state" && !this.#synced && socket === this.#socket) {
        // The state first (the caller has acted on it), then the screen as it is, then the live stream.
        if (this.#ring) {
          this.#send({ t: "replay" });
          if (socket.readyState === OPEN) socket.send(this.#ring.snapshot());
        }
        this.#synced = true;
      }
    };
    socket.onerror = (ev) => {
      refused = refusedStatus(ev) ?? refused;
    };
    socket.onclose = () => {
      if (socket !== this.#socket) return;
      this.#synced = false;
      if (this.#closed) return;
      this.#failures++;
      const turnedAway = refused !== undefined && refused >= 400 && refused < 500;
      if (turnedAway) this.#o.onRefused?.(refused!);
      if (this.#failures === 1) this.#o.log.warn("link to the daemon lost; the session keeps running");
      // An unreachable daemon is tried again soon; one that answers but refuses, less often.
      const delay = turnedAway
        ? Math.min(REFUSED_MAX_DELAY_MS, 1000 * 2 ** Math.min(this.#failures, 5))
        : Math.min(MAX_DELAY_MS, 250 * 2 ** Math.min(this.#failures, 5));
      this.#retry = setTimeout(() => this.start(), delay);
    };
  }

  /** Stops the link for good (the daemon no longer tracks this runner). */
  close(): void {
    this.#closed = true;
    clearTimeout(this.#retry);
    try {
      this.#socket?.close(1000, "done");
    } catch { /* gone */ }
  }

  /** Tells the daemon (and a terminal's viewers) how the session ended, then closes. */
  async finish(code: number | null, signal: string | null): Promise<void> {
    this.#closed = true;
    clearTimeout(this.#retry);
    const socket = this.#socket;
    if (socket?.readyState === OPEN) {
      this.#send({ t: "exit", code, signal });
      await new Promise((r) => setTimeout(r, 50)); // let the frame leave before the close
      socket.close(1000, "session ended");
    }
  }
}
