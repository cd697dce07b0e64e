/**
 * A runner's hooks are recorded in the order they reach the daemon (each takes its place once its body is
 * read). Claude Code posts them one after another, but gives up waiting for an answer after its timeout (5 s)
 * and goes on: on a loaded daemon the next hook (a StopFailure after a UserPromptSubmit, say) can arrive
 * while the last one is still being written, and two transactions racing would let the earlier event's
 * activity overwrite the later one's.
 */
export interface Place {
  /** Resolves when every place taken earlier on the same key has been left. */
  readonly turn: Promise<void>;
  /** Lets the next place go; idempotent (a route leaves in `finally` whatever happened before). */
  leave(): void;
}

export class ArrivalOrder {
  #tails = new Map<number, Promise<void>>();

  /** Takes the next place in `key`'s line, now (before any await, so arrival order is kept). */
  enter(key: number): Place {
    const before = this.#tails.get(key) ?? Promise.resolve();
    let release!: () => void;
    const left = new Promise<void>((r) => release = r);
    const tail = before.then(() => left);
    this.#tails.set(key, tail);
    let done = false;
    return {
      turn: before,
      leave: () => {
        if (done) return;
        done = true;
        release();
        // The last in line cleans up, so the map holds only keys with hooks in flight.
        tail.then(() => {
          if (this.#tails.get(key) === tail) this.#tails.delete(key);
        });
      },
    };
  }

  /** Keys with places taken (for tests: an idle daemon holds none). */
  get size(): number {
    return this.#tails.size;
  }
}
