/**
 * Graceful shutdown for requests in flight. Deno's `server.shutdown()` lets handlers finish but fails
 * reads of request bodies still arriving ("underlying resource unavailable", checked on Deno 2.9), so a
 * slow upload cut by a restart would get a 500. The daemon first drains: new requests get 503, those in
 * flight finish, and only then is the server shut down. Long-lived streams (events, followed logs,
 * terminals) are ended by the daemon's shutdown signal instead and are not waited for.
 */
import type { Context, MiddlewareHandler } from "hono";
import { AppError } from "../../lib/errors.ts";
import type { AppEnv } from "./types.ts";

export class RequestDrain {
  #inFlight = 0;
  #draining = false;
  #idle: (() => void)[] = [];

  get inFlight(): number {
    return this.#inFlight;
  }

  get draining(): boolean {
    return this.#draining;
  }

  /** Counts every request but the long-lived ones, and turns new ones away once draining. */
  middleware(isLongLived: (c: Context<AppEnv>) => boolean): MiddlewareHandler<AppEnv> {
    return async (c, next) => {
      if (isLongLived(c)) return await next();
      this.enter();
      try {
        await next();
      } finally {
        this.leave();
      }
    };
  }

  /** Counts a request in (throws once draining); each enter() is paired with one leave(). */
  enter(): void {
    if (this.#draining) {
      throw new AppError("shutting_down", "the daemon is shutting down: retry in a moment");
    }
    this.#inFlight++;
  }

  leave(): void {
    if (--this.#inFlight === 0) { for (const wake of this.#idle.splice(0)) wake(); }
  }

  /** Refuses new requests from now on and waits (at most limitMs) for those in flight. */
  async drain(limitMs: number): Promise<boolean> {
    this.#draining = true;
    if (this.#inFlight === 0) return true;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const done = await Promise.race([
      new Promise<boolean>((r) => this.#idle.push(() => r(true))),
      new Promise<boolean>((r) => (timer = setTimeout(() => r(false), limitMs))),
    ]);
    clearTimeout(timer);
    return done;
  }
}
