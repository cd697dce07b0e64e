/**
 * A size-rotated log file for the daemon run as a service: `daemon.log` grows to `maxBytes`, then becomes
 * `daemon.log.1` (older ones shift up to `.{files-1}`, the oldest is dropped), so the logs never take more
 * than about maxBytes × files. Writes are synchronous (one line each) so a crash loses nothing written.
 */
import { AppError } from "./errors.ts";
import type { LogSink } from "./log.ts";

export interface RotatingOptions {
  /** Size at which the file is rotated (default 10 MB). */
  maxBytes?: number;
  /** Files kept, the current one included (default 5: daemon.log and daemon.log.1 … .4). */
  files?: number;
  /** Where a line goes when the file cannot be written (default: dropped). */
  fallback?: LogSink;
}

const encoder = new TextEncoder();

export class RotatingFileSink implements LogSink {
  readonly path: string;
  #maxBytes: number;
  #files: number;
  #fallback?: LogSink;
  #file?: Deno.FsFile;
  #size = 0;

  constructor(path: string, opts: RotatingOptions = {}) {
    this.path = path;
    this.#maxBytes = opts.maxBytes ?? 10 * 1024 * 1024;
    this.#files = Math.max(1, opts.files ?? 5);
    this.#fallback = opts.fallback;
    try {
      const dir = path.replace(/[\\/][^\\/]*$/, "");
      if (dir && dir !== path) Deno.mkdirSync(dir, { recursive: true });
      this.#open();
    } catch (e) {
      throw new AppError("failed", `cannot write the log file ${path}: ${(e as Error).message}`);
    }
  }

  isTerminal(): boolean {
    return false;
  }

  write(line: string): void {
    const bytes = encoder.encode(line + "\n");
    try {
      if (this.#size > 0 && this.#size + bytes.length > this.#maxBytes) this.#rotate();
      if (!this.#file) this.#open();
      this.#file!.writeSync(bytes);
      this.#size += bytes.length;
    } catch {
      // A full disk or a removed folder must never take the daemon down.
      this.#fallback?.write(line);
    }
  }

  close(): void {
    try {
      this.#file?.close();
    } catch { /* already closed */ }
    this.#file = undefined;
  }

  #open(): void {
    // The daemon log names sessions, prompts' projects and errors: its user's only (a log from before
    // this rule is tightened too).
    this.#file = Deno.openSync(this.path, { append: true, create: true, mode: 0o600 });
    if (Deno.build.os !== "windows") Deno.chmodSync(this.path, 0o600);
    this.#size = this.#file.statSync().size;
  }

  /** Closed before renaming: Windows cannot rename an open file. */
  #rotate(): void {
    this.close();
    const name = (i: number) => (i === 0 ? this.path : `${this.path}.${i}`);
    try {
      Deno.removeSync(name(this.#files - 1));
    } catch { /* fewer files so far */ }
    for (let i = this.#files - 2; i >= 0; i--) {
      try {
        Deno.renameSync(name(i), name(i + 1));
      } catch { /* that one does not exist yet */ }
    }
    this.#open();
  }
}

/** Writes every line to each sink; a terminal only if one of them is (so text format stays on a tty). */
export function teeSink(...sinks: LogSink[]): LogSink {
  return {
    write: (line) => sinks.forEach((s) => s.write(line)),
    isTerminal: () => sinks.some((s) => s.isTerminal()),
  };
}
