/**
 * The command inside a pseudo-terminal (node-pty: a native add-on with prebuilt binaries for Linux, macOS
 * and Windows/ConPTY), for detached interactive runners: output is read as it comes, keys are written in,
 * the size follows the attached viewer's terminal.
 */
import { AppError } from "../lib/errors.ts";
import { type Resolved, spawnArgs, which } from "../lib/which.ts";
import { withUserUmask } from "../lib/private_files.ts";
import { type ExitStatus, killProcessTree, type RunningCommand } from "./child.ts";

interface IPty {
  pid: number;
  onData(fn: (data: string) => void): void;
  onExit(fn: (e: { exitCode: number; signal?: number }) => void): void;
  write(data: string): void;
  resize(cols: number, rows: number): void;
  kill(signal?: string): void;
}

const SIGNAL_NAMES: Record<number, string> = { 1: "SIGHUP", 2: "SIGINT", 9: "SIGKILL", 15: "SIGTERM" };
const enc = new TextEncoder();

export class PtyChild implements RunningCommand {
  readonly pid: number;
  readonly status: Promise<ExitStatus>;
  #pty: IPty;
  #exited = false;
  #decoder = new TextDecoder();
  cols: number;
  rows: number;

  private constructor(pty: IPty, cols: number, rows: number) {
    this.#pty = pty;
    this.pid = pty.pid;
    this.cols = cols;
    this.rows = rows;
    this.status = new Promise((resolve) => {
      pty.onExit(({ exitCode, signal }) => {
        this.#exited = true;
        const name = signal ? SIGNAL_NAMES[signal] ?? `SIG${signal}` : null;
        resolve({ code: signal ? 128 + signal : exitCode, signal: name });
      });
    });
  }

  static async spawn(opts: {
    command: string;
    args: string[];
    cwd: string;
    env: Record<string, string>;
    cols: number;
    rows: number;
  }): Promise<PtyChild> {
    const resolved = which(opts.command, { ...Deno.env.toObject(), ...opts.env });
    if (!resolved) throw new AppError("failed", `cannot run "${opts.command}": it is not on PATH`);
    // Loaded only here: the native add-on is needed by detached interactive runners alone.
    const { spawn } = await import("@lydell/node-pty");
    try {
      // The user's own umask for the session (this process runs with 077, lib/private_files.ts).
      const pty = withUserUmask(() =>
        // node-pty takes a string as the raw Windows command line: a .cmd script's, quoted for cmd.exe.
        spawn(resolved.command, ptyArgs(resolved, opts.args), {
          name: "xterm-256color",
          cols: opts.cols,
          rows: opts.rows,
          cwd: opts.cwd,
          env: { TERM: "xterm-256color", ...opts.env },
        })
      ) as unknown as IPty;
      return new PtyChild(pty, opts.cols, opts.rows);
    } catch (e) {
      throw new AppError("failed", `cannot start "${opts.command}" in a terminal: ${(e as Error).message}`);
    }
  }

  get exited(): boolean {
    return this.#exited;
  }

  onOutput(fn: (bytes: Uint8Array) => void): void {
    this.#pty.onData((text) => fn(enc.encode(text)));
  }

  /** Keys from a viewer (UTF-8 may arrive split across frames). */
  write(bytes: Uint8Array): void {
    if (this.#exited) return;
    this.#pty.write(this.#decoder.decode(bytes, { stream: true }));
  }

  resize(cols: number, rows: number): void {
    if (this.#exited || (cols === this.cols && rows === this.rows)) return;
    this.cols = cols;
    this.rows = rows;
    try {
      this.#pty.resize(cols, rows);
    } catch { /* exiting */ }
  }

  signal(sig: Deno.Signal): void {
    if (this.#exited) return;
    if (Deno.build.os === "windows") {
      if (sig === "SIGKILL" || sig === "SIGTERM") void this.killTree(sig === "SIGKILL");
      return;
    }
    try {
      this.#pty.kill(sig);
    } catch { /* gone */ }
  }

  async killTree(force = true): Promise<void> {
    if (!this.#exited) await killProcessTree(this.pid, force);
  }

  async stop(graceMs: number): Promise<ExitStatus> {
    this.signal("SIGTERM");
    const timer = setTimeout(() => void this.killTree(true), graceMs);
    const status = await this.status;
    clearTimeout(timer);
    return status;
  }
}

function ptyArgs(resolved: Resolved, args: string[]): string[] | string {
  const a = spawnArgs(resolved, args);
  return a.windowsRawArguments ? a.args[0] : a.args;
}
