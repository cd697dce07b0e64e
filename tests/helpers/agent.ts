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
