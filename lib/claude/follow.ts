/**
 * Follows one growing JSONL file by byte offset. The caller polls (no file watchers: they are unreliable
 * across platforms and network folders); each poll returns only complete lines.
 */

const CHUNK = 64 * 1024;

export class TranscriptFollower {
  readonly path: string;
  #offset = 0;
  #partial = "";
  #decoder = new TextDecoder();
  /** The file's identity, so a replaced file (rotation, rewrite) restarts from 0 even if it is larger. */
  #ino: number | null = null;

  constructor(path: string) {
    this.path = path;
  }

  /** Bytes consumed so far (complete lines plus any held partial line). */
  get offset(): number {
    return this.#offset;
  }

  /**
   * The new complete lines since the last poll, without line endings; [] while the file does not exist.
   * Polls run one at a time, in call order: each reads from the offset the last one left, so two at once
   * would return the same lines twice (the agent polls on a file change and on its heartbeat).
   */
  poll(): Promise<string[]> {
    const next = this.#last.then(() => this.#read());
    this.#last = next.catch(() => {});
    return next;
  }

  #last: Promise<unknown> = Promise.resolve();

  async #read(): Promise<string[]> {
    // Fast path: one stat, no open, when nothing changed (the usual case between two heartbeats).
    try {
      const quick = Deno.statSync(this.path);
      if (quick.size === this.#offset && (quick.ino === null || quick.ino === this.#ino)) return [];
    } catch (e) {
      if (e instanceof Deno.errors.NotFound) return [];
      throw e;
    }
    let file: Deno.FsFile;
    try {
      file = await Deno.open(this.path, { read: true });
    } catch (e) {
      if (e instanceof Deno.errors.NotFound) return [];
      throw e;
    }
    try {
      const info = await file.stat();
      const replaced = this.#ino !== null && info.ino !== null && info.ino !== this.#ino;
      if (info.size < this.#offset || replaced) this.#restart();
      this.#ino = info.ino;
      if (info.size === this.#offset) return [];
      await file.seek(this.#offset, Deno.SeekMode.Start);
      // Read only up to the size seen now; bytes appended meanwhile are picked up by the next poll.
      let remaining = info.size - this.#offset;
      const buf = new Uint8Array(Math.min(CHUNK, remaining));
      let text = "";
      while (remaining > 0) {
        const n = await file.read(buf.subarray(0, Math.min(buf.length, remaining)));
        if (n === null || n === 0) break;
        this.#offset += n;
        remaining -= n;
        // stream: true keeps a multi-byte character split across reads for the next decode.
        text += this.#decoder.decode(buf.subarray(0, n), { stream: true });
      }
      return this.#split(text);
    } finally {
      file.close();
    }
  }

  /** Starts after what the file holds now (a resumed session's earlier turns were counted by its earlier runner). */
  skipToEnd(): void {
    try {
      const info = Deno.statSync(this.path);
      this.#offset = info.size;
      this.#ino = info.ino;
      this.#partial = "";
    } catch { /* not there yet: everything it will hold is new */ }
  }

  /** The held partial line (a last line that never got its newline), returned once; [] when none. */
  flush(): string[] {
    const rest = this.#partial + this.#decoder.decode();
    this.#partial = "";
    return rest === "" ? [] : [rest.replace(/\r$/, "")];
  }

  #restart(): void {
    this.#offset = 0;
    this.#partial = "";
    this.#decoder = new TextDecoder();
  }

  #split(text: string): string[] {
    const parts = (this.#partial + text).split("\n");
    this.#partial = parts.pop() ?? "";
    return parts.map((l) => l.replace(/\r$/, "")).filter((l) => l !== "");
  }
}
