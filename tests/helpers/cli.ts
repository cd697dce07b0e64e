/** Runs the real `stratavore` entrypoint as a subprocess with a clean, isolated environment. */
import { MAIN, REPO } from "./env.ts";

export interface RunResult {
  code: number;
  stdout: string;
  stderr: string;
}

export interface RunOptions {
  env?: Record<string, string>;
  cwd?: string;
  stdin?: string;
  timeoutMs?: number;
  /** Extra `deno run` flags (permissions); defaults to --allow-all. */
  denoFlags?: string[];
}

/** The environment every subprocess starts from: enough for Deno, nothing of the developer's settings. */
export function baseEnv(extra: Record<string, string> = {}): Record<string, string> {
  const env: Record<string, string> = { NO_COLOR: "1", DENO_NO_UPDATE_CHECK: "1" };
  for (const key of ["PATH", "HOME", "USERPROFILE", "TMPDIR", "DENO_DIR", "SystemRoot", "TEMP", "TMP"]) {
    const v = Deno.env.get(key);
    if (v !== undefined) env[key] = v;
  }
  return { ...env, ...extra };
}

export function stratavoreCommand(args: string[], opts: RunOptions = {}): Deno.Command {
  return new Deno.Command(Deno.execPath(), {
    args: ["run", ...(opts.denoFlags ?? ["--allow-all"]), "--quiet", MAIN, ...args],
    cwd: opts.cwd ?? REPO,
    env: baseEnv(opts.env),
    clearEnv: true,
    stdin: opts.stdin === undefined ? "null" : "piped",
    stdout: "piped",
    stderr: "piped",
  });
}

export async function runStratavore(args: string[], opts: RunOptions = {}): Promise<RunResult> {
  const child = stratavoreCommand(args, opts).spawn();
  if (opts.stdin !== undefined) {
    const w = child.stdin.getWriter();
    await w.write(new TextEncoder().encode(opts.stdin));
    await w.close();
  }
  const timer = setTimeout(() => {
    try {
      child.kill("SIGKILL");
    } catch { /* gone */ }
  }, opts.timeoutMs ?? 60_000);
  const out = await child.output();
  clearTimeout(timer);
  const dec = new TextDecoder();
  return { code: out.code, stdout: dec.decode(out.stdout), stderr: dec.decode(out.stderr) };
}
