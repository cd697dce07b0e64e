/** Fixtures and subprocess helpers for the service tests (tests/daemon/service_test.ts). */
import { loadConfig } from "../../lib/config.ts";
import type { ServiceContext } from "../../daemon/service/install.ts";
import { buildSpec, type RunResult, type ServiceOs } from "../../daemon/service/spec.ts";
import { assert, assertEquals } from "./assert.ts";

export const DENO = Deno.execPath();
export const SELF = [DENO, "run", "--allow-all", "--quiet", "/opt/strata vore/main.ts"];

/** The settings every fixture carries (with % and $ in a password, for the quoting). */
export const ENV = {
  STRATAVORE_LISTEN: "127.0.0.1:7999",
  DATABASE_URL: "postgres://ada:p%40ss$word@127.0.0.1:5432/strata",
  TELEGRAM_BOT_TOKEN: "123456:ABC-DEF",
};

/** A service context for a made-up user "ada" whose commands are recorded, never run. */
export function ctxFor(os: ServiceOs, opts: Partial<ServiceContext> & { env?: Record<string, string> } = {}) {
  const env = {
    STRATAVORE_HOME: os === "windows" ? "C:\\Users\\ada\\.stratavore" : "/home/ada/.stratavore",
    ...ENV,
    ...opts.env,
  };
  const calls: string[][] = [];
  const printed: string[] = [];
  const ctx: ServiceContext = {
    os,
    system: false,
    loaded: loadConfig({ env, os, readFile: () => undefined }),
    self: SELF,
    user: "ada",
    userId: "WORK\\ada",
    userHome: os === "windows" ? "C:\\Users\\ada" : "/home/ada",
    env,
    run: (cmd) => {
      calls.push(cmd);
      return Promise.resolve({ code: 0, stdout: "", stderr: "" });
    },
    print: (l) => printed.push(l),
    ...opts,
  };
  return { ctx, calls, printed, spec: buildSpec(ctx) };
}

/** Runs a command with optional stdin; undefined when the program is not installed. */
export async function tool(cmd: string[], stdin?: string | Uint8Array): Promise<RunResult | undefined> {
  try {
    const child = new Deno.Command(cmd[0], {
      args: cmd.slice(1),
      stdin: stdin === undefined ? "null" : "piped",
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    if (stdin !== undefined) {
      const w = child.stdin.getWriter();
      await w.write(typeof stdin === "string" ? new TextEncoder().encode(stdin) : stdin);
      await w.close();
    }
    const out = await child.output();
    const dec = new TextDecoder();
    return { code: out.code, stdout: dec.decode(out.stdout), stderr: dec.decode(out.stderr) };
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return undefined;
    throw e;
  }
}

/** Runs a python3 script that prints JSON (plistlib and ElementTree are the reference parsers here). */
export async function python(script: string, input: string | Uint8Array): Promise<unknown> {
  const r = await tool(["python3", "-c", script], input);
  assert(r, "python3 is on this machine kind (the plist and XML checks use its parsers)");
  assertEquals(r.code, 0, r.stderr);
  return JSON.parse(r.stdout);
}

/** Every file under dir, relative. */
export function filesUnder(dir: string, prefix = ""): string[] {
  return [...Deno.readDirSync(dir)].flatMap((e) =>
    e.isDirectory ? filesUnder(`${dir}/${e.name}`, `${prefix}${e.name}/`) : [`${prefix}${e.name}`]
  ).sort();
}

/** Deno's cache folder, for subprocesses whose HOME is moved. */
export async function denoDir(): Promise<string> {
  const out = await new Deno.Command(Deno.execPath(), { args: ["info", "--json"], stdout: "piped" }).output();
  return JSON.parse(new TextDecoder().decode(out.stdout)).denoDir;
}
