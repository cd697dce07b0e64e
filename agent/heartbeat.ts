/**
 * The agent's heartbeat loop. While the daemon answers it reports every interval; while it does not, the
 * session goes on and the loop retries with backoff (never longer than the interval, so a restarted
 * daemon sees the runner again well within its TTL). Each answer carries the runner's state, so the loop is
 * also the fallback for commands when the link (link.ts) is down.
 */
import type { RunnerClient } from "../lib/runner_client.ts";
import type { Logger } from "../lib/log.ts";
import type { HeartbeatRequest, HeartbeatResponse } from "../lib/schemas/runner.ts";
import { type Action, fromError, fromState } from "./verdict.ts";

export interface HeartbeatHandlers {
  /** What the daemon's answer calls for (verdict.ts); an ended runner's also ends the loop. */
  onAction(action: Action): void;
  /** A heartbeat was accepted (its body's usage is now booked). */
  onAccepted?(body: HeartbeatRequest, reply: HeartbeatResponse): void;
  /** Whether the runner's token has been accepted before (a 401 then means it was revoked). */
  tokenWorked(): boolean;
}

export class HeartbeatLoop {
  #client: RunnerClient;
  #runnerId: number;
  #intervalMs: number;
  #sample: () => Promise<HeartbeatRequest>;
  #handlers: HeartbeatHandlers;
  #log: Logger;
  #timer?: ReturnType<typeof setTimeout>;
  #running?: Promise<void>;
  #stopped = false;
  #failures = 0;
  #ended = false;
  #followServer: boolean;

  constructor(opts: {
    client: RunnerClient;
    runnerId: number;
    intervalMs: number;
    sample: () => Promise<HeartbeatRequest>;
    handlers: HeartbeatHandlers;
    log: Logger;
    /** Take the interval the daemon asks for (unless the user chose one with --heartbeat). */
    followServer?: boolean;
  }) {
    this.#client = opts.client;
    this.#runnerId = opts.runnerId;
    this.#intervalMs = opts.intervalMs;
    this.#sample = opts.sample;
    this.#handlers = opts.handlers;
    this.#log = opts.log;
    this.#followServer = opts.followServer ?? true;
  }

  start(firstDelayMs = this.#intervalMs): void {
    this.#schedule(firstDelayMs);
  }

  get ended(): boolean {
    return this.#ended;
  }

  /** The next heartbeat goes now, unless one is on its way (two at once would race their signatures). */
  soon(): void {
    if (this.#running || this.#stopped || this.#ended) return;
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#schedule(0);
  }

  /** The runner has ended (the link said so): no more reports. */
  end(): void {
    this.#ended = true;
    if (this.#timer !== undefined) clearTimeout(this.#timer);
  }

  #schedule(ms: number): void {
    if (this.#stopped || this.#ended) return;
    this.#timer = setTimeout(() => {
      this.#running = this.beat().then((next) => {
        this.#running = undefined;
        this.#schedule(next);
      });
    }, ms);
  }

  /** Sends one heartbeat now (fields in `extra` added to the sample); returns the delay before the next one. */
  async beat(extra: Partial<HeartbeatRequest> = {}): Promise<number> {
    if (this.#ended) return this.#intervalMs;
    const body = { ...await this.#sample(), ...extra };
    try {
      const reply = await this.#client.heartbeat(this.#runnerId, body);
      if (this.#failures > 0) this.#log.info("daemon reachable again", { failedHeartbeats: this.#failures });
      this.#failures = 0;
      if (this.#followServer) this.#intervalMs = reply.intervalMs;
      this.#handlers.onAccepted?.(body, reply);
      this.#handlers.onAction(fromState(reply.state, reply.stopRequested));
      return this.#intervalMs;
    } catch (e) {
      const action = fromError(e, this.#handlers.tokenWorked());
      if (action) {
        if (action.ended) this.#ended = true;
        this.#handlers.onAction(action);
        return this.#intervalMs;
      }
      this.#failures++;
      if (this.#failures === 1 || this.#failures % 10 === 0) {
        this.#log.warn("heartbeat failed; the session keeps running and the agent retries", {
          error: (e as Error).message,
          failures: this.#failures,
        });
      }
      return Math.min(this.#intervalMs, 500 * 2 ** Math.min(this.#failures, 6));
    }
  }

  /**
   * The last report of a session that has ended: sent until the daemon takes it (a daemon restarting just
   * as the session ends must not lose its last tokens), for at most `withinMs`. True when it was taken.
   */
  async finalBeat(extra: Partial<HeartbeatRequest> = {}, withinMs = 60_000): Promise<boolean> {
    const deadline = Date.now() + withinMs;
    for (;;) {
      const before = this.#failures;
      const next = await this.beat(extra);
      if (this.#ended || this.#failures === 0 || this.#failures === before) return !this.#ended;
      if (Date.now() + next > deadline) return false;
      await new Promise((r) => setTimeout(r, next));
    }
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    await this.#running;
  }
}
