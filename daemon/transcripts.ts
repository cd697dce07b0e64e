/**
 * Where finished sessions' transcripts are kept: a small interface so an S3-compatible store can be added
 * later; the local store writes `$STRATAVORE_HOME/transcripts/<project>/<session>.jsonl.gz`.
 */
import { homePath } from "../lib/home.ts";

export interface StoredTranscript {
  location: string;
  storedBytes: number;
  /** Of the uncompressed JSONL. */
  bytes: number;
  sha256: string;
  lines: number;
}

export interface TranscriptStore {
  readonly kind: string;
  /** Stores a gzip stream, checking it decompresses, and measures the content. */
  put(
    project: string,
    sessionId: string,
    gzip: ReadableStream<Uint8Array>,
    maxBytes: number,
  ): Promise<StoredTranscript>;
  /** The gzip bytes of a stored transcript. */
  get(location: string): Promise<ReadableStream<Uint8Array>>;
}

/** A gzip decompressor typed for byte streams (the DOM typing of DecompressionStream is wider). */
export function gunzip(): TransformStream<Uint8Array, Uint8Array> {
  return new DecompressionStream("gzip") as unknown as TransformStream<Uint8Array, Uint8Array>;
}

async function measure(
  plain: ReadableStream<Uint8Array>,
): Promise<{ bytes: number; sha256: string; lines: number }> {
  const { createHash } = await import("node:crypto");
  const hash = createHash("sha256");
  let bytes = 0;
  let lines = 0;
  let last = 10;
  for await (const chunk of plain) {
    hash.update(chunk);
    bytes += chunk.byteLength;
    for (const b of chunk) if (b === 10) lines++;
    if (chunk.byteLength) last = chunk[chunk.byteLength - 1];
  }
  if (bytes > 0 && last !== 10) lines++;
  return { bytes, sha256: hash.digest("hex"), lines };
}

export class LocalTranscriptStore implements TranscriptStore {
  readonly kind = "local";
  #root: string;

  constructor(home: string) {
    this.#root = homePath(home, "transcripts");
  }

  async put(project: string, sessionId: string, gzip: ReadableStream<Uint8Array>, maxBytes: number) {
    const dir = homePath(this.#root, project);
    await Deno.mkdir(dir, { recursive: true });
    const location = homePath(dir, `${sessionId}.jsonl.gz`);
    const tmp = `${location}.${crypto.randomUUID().slice(0, 8)}.tmp`;
    let stored = 0;
    const limited = gzip.pipeThrough(
      new TransformStream<Uint8Array, Uint8Array>({
        transform(chunk, ctl) {
          stored += chunk.byteLength;
          if (stored > maxBytes) ctl.error(new RangeError(`transcript larger than ${maxBytes} bytes`));
          else ctl.enqueue(chunk);
        },
      }),
    );
    const [toFile, toCheck] = limited.tee();
    const file = await Deno.open(tmp, { create: true, write: true, truncate: true });
    try {
      const [, facts] = await Promise.all([
        toFile.pipeTo(file.writable),
        measure(toCheck.pipeThrough(gunzip())),
      ]);
      await Deno.rename(tmp, location);
      return { location, storedBytes: stored, ...facts };
    } catch (e) {
      await Deno.remove(tmp).catch(() => {});
      throw e;
    }
  }

  async get(location: string): Promise<ReadableStream<Uint8Array>> {
    return (await Deno.open(location, { read: true })).readable;
  }
}
