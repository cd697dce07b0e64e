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
    signal?: AbortSignal,
  ): Promise<StoredTranscript>;
  /** The gzip bytes of a stored transcript. */
  get(location: string): Promise<ReadableStream<Uint8Array>>;
}

/** A gzip decompressor typed for byte streams (the DOM typing of DecompressionStream is wider). */
export function gunzip(): TransformStream<Uint8Array, Uint8Array> {
  return new DecompressionStream("gzip") as unknown as TransformStream<Uint8Array, Uint8Array>;
}

/**
 * Limits on what a transcript may expand to. The upload limit counts compressed bytes, and 1 MiB of gzip
 * can expand to 1 GiB (a gzip bomb took 18.5 s and stalled the daemon): the expanded size is capped, and
 * so is the ratio once past a first MiB (JSONL transcripts compress about 5-20×, a bomb about 1000×).
 */
export const TRANSCRIPT_LIMITS = {
  /** Uncompressed bytes at most. */
  plainBytes: 1024 * 1024 * 1024,
  /** Uncompressed bytes per compressed byte at most, checked once past `ratioAfter` uncompressed bytes. */
  ratio: 100,
  ratioAfter: 1024 * 1024,
};

/** A transcript refused for its size (the route answers 413). */
export class TranscriptTooLarge extends RangeError {}

async function measure(
  plain: ReadableStream<Uint8Array>,
  compressedSoFar: () => number,
): Promise<{ bytes: number; sha256: string; lines: number }> {
  const { createHash } = await import("node:crypto");
  const hash = createHash("sha256");
  let bytes = 0;
  let lines = 0;
  let last = 10;
  for await (const chunk of plain) {
    bytes += chunk.byteLength;
    if (bytes > TRANSCRIPT_LIMITS.plainBytes) {
      throw new TranscriptTooLarge(`transcript expands to more than ${TRANSCRIPT_LIMITS.plainBytes} bytes`);
    }
    if (bytes > TRANSCRIPT_LIMITS.ratioAfter && bytes > TRANSCRIPT_LIMITS.ratio * compressedSoFar()) {
      throw new TranscriptTooLarge(
        `transcript expands more than ${TRANSCRIPT_LIMITS.ratio}× (a transcript compresses far less): refused`,
      );
    }
    hash.update(chunk);
    // indexOf is native (memchr): a per-byte JS loop here held the event loop for seconds per GiB.
    for (let i = chunk.indexOf(10); i !== -1; i = chunk.indexOf(10, i + 1)) lines++;
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

  async put(
    project: string,
    sessionId: string,
    gzip: ReadableStream<Uint8Array>,
    maxBytes: number,
    signal?: AbortSignal,
  ) {
    const dir = homePath(this.#root, project);
    await Deno.mkdir(dir, { recursive: true });
    const location = homePath(dir, `${sessionId}.jsonl.gz`);
    const tmp = `${location}.${crypto.randomUUID().slice(0, 8)}.tmp`;
    let stored = 0;
    const limited = gzip.pipeThrough(
      new TransformStream<Uint8Array, Uint8Array>({
        transform(chunk, ctl) {
          stored += chunk.byteLength;
          if (signal?.aborted) ctl.error(signal.reason ?? new Error("the upload was cut off"));
          else if (stored > maxBytes) {
            ctl.error(new TranscriptTooLarge(`transcript larger than ${maxBytes} bytes`));
          } else ctl.enqueue(chunk);
        },
      }),
    );
    const [toFile, toCheck] = limited.tee();
    const file = await Deno.open(tmp, { create: true, write: true, truncate: true, mode: 0o600 });
    // Whichever side fails first (too large, not gzip, the client gone) ends the other at once.
    const stop = new AbortController();
    const onAbort = () => stop.abort(signal?.reason);
    signal?.addEventListener("abort", onAbort, { once: true });
    try {
      const [, facts] = await Promise.all([
        toFile.pipeTo(file.writable, { signal: stop.signal }).catch((e) => {
          stop.abort(e);
          throw e;
        }),
        measure(toCheck.pipeThrough(gunzip(), { signal: stop.signal }), () => stored).catch((e) => {
          stop.abort(e);
          throw e;
        }),
      ]);
      await Deno.rename(tmp, location);
      return { location, storedBytes: stored, ...facts };
    } catch (e) {
      await Deno.remove(tmp).catch(() => {});
      throw e;
    } finally {
      signal?.removeEventListener("abort", onAbort);
    }
  }

  async get(location: string): Promise<ReadableStream<Uint8Array>> {
    return (await Deno.open(location, { read: true })).readable;
  }
}
