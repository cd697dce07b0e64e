/** The last `limit` bytes of a stream (a terminal's scrollback), kept as the chunks that arrived. */
export class ByteRing {
  #chunks: Uint8Array[] = [];
  #size = 0;
  constructor(readonly limit: number) {}

  get size(): number {
    return this.#size;
  }

  push(bytes: Uint8Array): void {
    this.#chunks.push(bytes);
    this.#size += bytes.byteLength;
    while (this.#size > this.limit && this.#chunks.length) {
      const over = this.#size - this.limit;
      const first = this.#chunks[0];
      if (first.byteLength <= over) {
        this.#chunks.shift();
        this.#size -= first.byteLength;
      } else {
        this.#chunks[0] = first.subarray(over);
        this.#size -= over;
      }
    }
  }

  replace(bytes: Uint8Array): void {
    this.#chunks = [];
    this.#size = 0;
    this.push(bytes);
  }

  snapshot(): Uint8Array {
    const out = new Uint8Array(this.#size);
    let at = 0;
    for (const c of this.#chunks) {
      out.set(c, at);
      at += c.byteLength;
    }
    return out;
  }
}
