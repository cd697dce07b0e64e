/** Running the real `stratavore agent` / `launch` as a subprocess around the fake claude. */
import type { PlanInput } from "../fixtures/fake_claude_plan.ts";
import { stratavoreCommand } from "./cli.ts";

export interface AgentProcess {
  process: Deno.ChildProcess;
  pid: number;
  /** Resolves with the exit code and everything the agent printed. */
  done: Promise<{ code: number; stdout: string; stderr: string }>;
}

export function spawnAgent(
  args: string[],
  opts: { env: Record<string, string>; cwd: string; plan?: PlanInput; stdin?: "null" | "piped" },
): AgentProcess {
  const env = { ...opts.env, ...(opts.plan ? { FAKE_CLAUDE_PLAN: JSON.stringify(opts.plan) } : {}) };
  const cmd = stratavoreCommand(args, { env, cwd: opts.cwd });
  const process = cmd.spawn();
  const dec = new TextDecoder();
  const done = process.output().then((o) => ({
    code: o.code,
    stdout: dec.decode(o.stdout),
    stderr: dec.decode(o.stderr),
  }));
  return { process, pid: process.pid, done };
}

/** A project folder for a test, created under the daemon's home. */
export async function projectFolder(home: string, name: string): Promise<string> {
  const dir = `${home}/work/${name}`;
  await Deno.mkdir(dir, { recursive: true });
  return dir;
}

/** Whether a process has ended: gone, or a zombie its parent has not reaped yet (Linux /proc). */
export function processEnded(pid: number): boolean {
  try {
    const stat = Deno.readTextFileSync(`/proc/${pid}/stat`);
    return stat.slice(stat.lastIndexOf(")") + 2).startsWith("Z");
  } catch {
    return true;
  }
}

/** The command line a process runs with (Linux /proc), e.g. ["/usr/bin/sleep", "600"]. */
export function cmdlineOf(pid: number): string[] {
  return Deno.readTextFileSync(`/proc/${pid}/cmdline`).split("\0").slice(0, -1);
}

/** Milliseconds from now until the process has ended (polled every 2 ms), failing after timeoutMs. */
export async function msUntilEnded(pid: number, since: number, timeoutMs = 30_000): Promise<number> {
  while (!processEnded(pid)) {
    if (performance.now() - since > timeoutMs) throw new Error(`process ${pid} outlived ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 2));
  }
  return performance.now() - since;
}
