/**
 * The agents linked to this daemon: one WebSocket per running agent (daemon/routes/link.ts accepts it). A
 * new link is first told its runner's state; after that, what any daemon decides for the runner (a stop, a
 * kill: daemon/store/agent_notices.ts) arrives here as a NOTIFY and goes straight down the link. When the
 * LISTEN connection comes back after a drop, every linked agent is told its state again, so a command sent
 * meanwhile is not lost. For runners with a terminal the link also carries it, to and from the PtyHub.
 */
import type { Db } from "../../lib/db/types.ts";
import type { Logger } from "../../lib/log.ts";
import { agentMessage, linkNotice, type ToAgentMessage } from "../../lib/schemas/link.ts";
import type { Runner, RunnerState } from "../../lib/schemas/runner.ts";
import type { PtyHub } from "../pty/hub.ts";
import { LINK_CHANNEL } from "../store/agent_notices.ts";

function send(socket: WebSocket, message: ToAgentMessage): boolean {
  if (socket.readyState !== WebSocket.OPEN) return false;
  try {
    socket.send(JSON.stringify(message));
    return true;
  } catch {
    return false; // closing
  }
}

export class AgentLinks {
  #links = new Map<number, WebSocket>();
  #unlisten?: () => Promise<void>;
  /** Messages passed on since start (for tests and metrics). */
  delivered = 0;

  constructor(private db: Db, private pty: PtyHub, private log: Logger) {}

  async start(): Promise<void> {
    this.#unlisten = await this.db.listen(
      LINK_CHANNEL,
      (payload) => this.#notice(payload),
      () => void this.#resync(),
    );
  }

  get size(): number {
    return this.#links.size;
  }

  /** Takes over an upgraded socket as runner's link (replacing an older one of the same runner). */
  accept(runner: Runner, socket: WebSocket): void {
    const id = runner.id;
    const terminal = runner.mode === "pty" ? this.pty.channel(id) : undefined;
    socket.binaryType = "arraybuffer";
    socket.onopen = () => {
      const older = this.#links.get(id);
      this.#links.set(id, socket);
      if (older && older !== socket) {
        try {
          older.close(4000, "replaced by a newer connection");
        } catch { /* gone */ }
      }
      terminal?.agentConnected(socket);
      // Registered first, then the state read: a command committed in between reaches the agent either
      // way (as the notice, or in the state).
      void this.#tellState([id]);
      this.log.info("agent linked", { runner: id, project: runner.project, links: this.#links.size });
    };
    socket.onmessage = (e) => {
      if (typeof e.data !== "string") {
        terminal?.agentOutput(new Uint8Array(e.data as ArrayBuffer));
        return;
      }
      let msg;
      try {
        msg = agentMessage.parse(JSON.parse(e.data));
      } catch {
        return; // an unknown message from an untrusted peer: ignored
      }
      terminal?.agentMessage(msg);
    };
    socket.onclose = () => {
      terminal?.agentDisconnected(socket);
      if (this.#links.get(id) !== socket) return;
      this.#links.delete(id);
      this.log.debug("agent link closed", { runner: id });
    };
    socket.onerror = () => {};
  }

  /** Passes a message to a runner's agent if it is linked here; false when it is not. */
  send(runnerId: number, message: ToAgentMessage): boolean {
    const socket = this.#links.get(runnerId);
    return socket ? send(socket, message) : false;
  }

  #notice(payload: string): void {
    let notice;
    try {
      notice = linkNotice.parse(JSON.parse(payload));
    } catch {
      this.log.warn("ignored a malformed agent link notice", { payload: payload.slice(0, 200) });
      return;
    }
    if (this.send(notice.runner, notice.message)) {
      this.delivered++;
      this.log.info("told the agent", { runner: notice.runner, message: notice.message.t });
    }
  }

  /** Every linked agent gets its state again (after the LISTEN connection was re-established). */
  #resync(): Promise<void> {
    return this.#tellState([...this.#links.keys()]);
  }

  async #tellState(ids: number[]): Promise<void> {
    if (ids.length === 0) return;
    try {
      const rows = await this.db.query<
        { id: number; state: RunnerState; stop: boolean; reason: string | null }
      >(
        "SELECT id, state, stop_requested_at IS NOT NULL AS stop, reason FROM runners WHERE id = ANY($1::bigint[])",
        [ids],
      );
      const found = new Set(rows.map((r) => r.id));
      for (const r of rows) {
        this.send(r.id, { t: "state", state: r.state, stopRequested: r.stop, reason: r.reason });
      }
      // Deleted meanwhile (a project deleted with --force): the runner is gone, its session ends.
      for (const id of ids) {
        if (!found.has(id)) this.send(id, { t: "kill", reason: "the runner was deleted" });
      }
    } catch (e) {
      // The agent's heartbeats still carry the state; the next resync or reconnect tries again.
      this.log.warn("could not tell linked agents their runner's state", { error: e as Error });
    }
  }

  async stop(): Promise<void> {
    await this.#unlisten?.().catch(() => {});
    for (const socket of this.#links.values()) {
      try {
        socket.close(1001, "daemon shutting down");
      } catch { /* gone */ }
    }
    this.#links.clear();
  }
}
