/**
 * The wrapped command: spawned with the terminal inherited (or its output captured for headless runs),
 * asked to stop with the OS's polite signal, and ended with its whole process tree when it will not.
 */
import { AppError } from "../lib/errors.ts";
import { spawnArgs, which } from "../lib/which.ts";
import { withUserUmask } from "../lib/private_files.ts";
import { processTree } from "./stats.ts";

export interface ExitStatus {
  code: number;
  signal: string | null;
}

export interface SpawnOptions {
  command: string;
  args: string[];
  cwd: string;
  env: Record<string, string>;
  /** "inherit": the child owns this terminal; "capture": stdout is piped to the caller, stderr inherited. */
  stdio: "inherit" | "capture";
}

/** Ends a process and every descendant: SIGKILL (or SIGTERM) each on POSIX, `taskkill /T [/F]` on Windows. */
export async function killProcessTree(root: number, force: boolean): Promise<void> {
  if (Deno.build.os === "windows") {
    await new Deno.Command("taskkill", {
      args: ["/PID", String(root), "/T", ...(force ? ["/F"] : [])],
      stdout: "null",
      stderr: "null",
    }).output().catch(() => {});
    return;
  }
  const tree = await processTree(root);
  // Children first, so none is re-parented and missed while its parent dies.
  for (const pid of [...(tree?.pids ?? [root])].reverse()) {
    try {
      Deno.kill(pid, force ? "SIGKILL" : "SIGTERM");
    } catch { /* gone */ }
  }
}

/** What the agent needs of the process it runs, with the terminal inherited or in a pseudo-terminal. */
export interface RunningCommand {
  readonly pid: number;
  readonly status: Promise<ExitStatus>;
  readonly exited: boolean;
  signal(sig: Deno.Signal): void;
  killTree(force?: boolean): Promise<void>;
  stop(graceMs: number): Promise<ExitStatus>;
}

export class Child implements RunningCommand {
  readonly pid: number;
  readonly status: Promise<ExitStatus>;
  readonly stdout: ReadableStream<Uint8Array> | null;
  #process: Deno.ChildProcess;
  #exited = false;

  private constructor(process: Deno.ChildProcess, capture: boolean) {
    this.#process = process;
    this.pid = process.pid;
    this.stdout = capture ? process.stdout : null;
    this.status = process.status.then((s) => {
      this.#exited = true;
      return { code: s.code, signal: s.signal ?? null };
    });
  }

  static spawn(opts: SpawnOptions): Child {
    const resolved = which(opts.command, { ...Deno.env.toObject(), ...opts.env });
    if (!resolved) {
      throw new AppError(
        "failed",
        `cannot run "${opts.command}": it is not on PATH; install it, or set the project's command with "stratavore project set <name> --command …"`,
      );
    }
    try {
      // The user's own umask: files the session creates in the project keep their usual modes.
      const process = withUserUmask(() =>
        new Deno.Command(resolved.command, {
          // A Windows .cmd script gets a command line quoted for cmd.exe (lib/cmd_quote.ts).
          ...spawnArgs(resolved, opts.args),
          cwd: opts.cwd,
          // Exactly this environment (the agent built it from an allowlist), not the agent's own.
          env: opts.env,
          clearEnv: true,
          stdin: opts.stdio === "inherit" ? "inherit" : "null",
          stdout: opts.stdio === "inherit" ? "inherit" : "piped",
          stderr: "inherit",
        }).spawn()
      );
      return new Child(process, opts.stdio === "capture");
    } catch (e) {
      throw new AppError("failed", `cannot start "${opts.command}" in ${opts.cwd}: ${(e as Error).message}`);
    }
  }

  get exited(): boolean {
    return this.#exited;
  }

  /** Sends a signal to the child itself (POSIX). On Windows only ending the tree is possible. */
  signal(sig: Deno.Signal): void {
    if (this.#exited) return;
    if (Deno.build.os === "windows") {
      // Windows has no signals to send; Ctrl-C already reaches every process on the console.
      if (sig === "SIGKILL" || sig === "SIGTERM") void this.killTree(sig === "SIGKILL");
      return;
    }
    try {
      this.#process.kill(sig);
    } catch { /* already gone */ }
  }

  /** Ends the child and every descendant: SIGKILL each (POSIX), `taskkill /T` (Windows). */
  async killTree(force = true): Promise<void> {
    if (!this.#exited) await killProcessTree(this.pid, force);
  }

  /** Asks politely (SIGTERM, or taskkill without /F), waits up to graceMs, then ends the tree. */
  async stop(graceMs: number): Promise<ExitStatus> {
    if (Deno.build.os === "windows") await this.killTree(false);
    else this.signal("SIGTERM");
    const timer = setTimeout(() => void this.killTree(true), graceMs);
    const status = await this.status;
    clearTimeout(timer);
    return status;
  }
}
