/** Things as they arrive (a daemon's log lines, the requests a stand-in saw), and waits for one to arrive. */
export class Arrivals<T> {
  readonly items: T[] = [];
  #waiters: { pred: (x: T) => boolean; resolve: (x: T) => void }[] = [];

  push(x: T): void {
    this.items.push(x);
    for (const w of [...this.#waiters]) {
      if (w.pred(x)) {
        this.#waiters.splice(this.#waiters.indexOf(w), 1);
        w.resolve(x);
      }
    }
  }

  /** The first item matching `pred`, past or future; rejects with `failure()` after `timeoutMs`. */
  waitFor(pred: (x: T) => boolean, timeoutMs: number, failure: () => Error): Promise<T> {
    const hit = this.items.find(pred);
    if (hit !== undefined) return Promise.resolve(hit);
    return new Promise((resolve, reject) => {
      const w = { pred, resolve };
      this.#waiters.push(w);
      setTimeout(() => {
        const i = this.#waiters.indexOf(w);
        if (i >= 0) {
          this.#waiters.splice(i, 1);
          reject(failure());
        }
      }, timeoutMs);
    });
  }
}
