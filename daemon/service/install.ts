/**
 * `stratavore daemon install | uninstall | status`: picks the platform's plan (systemd, launchd, Task
 * Scheduler or WinSW) and carries out its effects: files under an injectable root, commands through an
 * injectable runner, so tests never touch the real service manager.
 */
import { userInfo } from "node:os";
import { contextFrom, type GlobalOptions } from "../../lib/startup.ts";
import type { LoadedConfig } from "../../lib/config.ts";
import { AppError } from "../../lib/errors.ts";
import { readDaemonInfo } from "../../lib/daemon_info.ts";
import { daemonCommand } from "../../lib/self.ts";
import { launchdPlan, launchdPlistPath } from "./launchd.ts";
import {
  buildSpec,
  dryRunner,
  type Plan,
  realRunner,
  reroot,
  type Runner,
  type ServiceOs,
  shellLine,
} from "./spec.ts";
import { systemdPlan, systemdUnitPath } from "./systemd.ts";
import { taskPlan, windowsServiceDir, winswPlan } from "./windows.ts";

export interface ServiceContext {
  os: ServiceOs;
  system: boolean;
  loaded: LoadedConfig;
  self: string[];
  user: string;
  /** DOMAIN\user, for the Windows task. */
  userId: string;
  userHome: string;
  env: Record<string, string | undefined>;
  /** Every file is written, removed and looked for under this folder (tests). */
  root?: string;
  run: Runner;
  print: (line: string) => void;
}

export function planFor(ctx: ServiceContext): Plan {
  const spec = buildSpec(ctx);
  switch (ctx.os) {
    case "linux":
      return systemdPlan(spec, systemdUnitPath(ctx.system, ctx.userHome, ctx.env.XDG_CONFIG_HOME));
    case "darwin":
      return launchdPlan(spec, launchdPlistPath(ctx.system, ctx.userHome));
    case "windows":
      return ctx.system
        ? winswPlan(spec, windowsServiceDir(spec.home))
        : taskPlan(spec, windowsServiceDir(spec.home), ctx.userId);
  }
}

function utf16(text: string): Uint8Array {
  const out = new Uint8Array(2 + text.length * 2);
  out.set([0xff, 0xfe]);
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    out[2 + i * 2] = c & 0xff;
    out[3 + i * 2] = c >> 8;
  }
  return out;
}

function parent(path: string): string {
  return path.replace(/[\\/][^\\/]*$/, "");
}

function exists(path: string): boolean {
  try {
    Deno.statSync(path);
    return true;
  } catch {
    return false;
  }
}

/** Runs commands in order; on a failure says why and, when `stop`, what to run once that is fixed. */
async function runAll(ctx: ServiceContext, cmds: string[][], stop: boolean): Promise<boolean> {
  let ok = true;
  for (const [i, cmd] of cmds.entries()) {
    const r = await ctx.run(cmd);
    if (r && r.code === 0) continue;
    ok = false;
    const why = !r
      ? `${cmd[0]} is not available here`
      : r.stderr.trim().split("\n")[0] || `exit code ${r.code}`;
    ctx.print(`could not run: ${shellLine(cmd)} (${why})`);
    if (stop) {
      ctx.print("run it yourself once that is fixed:");
      for (const rest of cmds.slice(i)) ctx.print(`  ${shellLine(rest)}`);
      return false;
    }
  }
  return ok;
}

/** Writes the service files and enables the service; false when the service manager did not take it. */
export async function install(ctx: ServiceContext): Promise<boolean> {
  const plan = planFor(ctx);
  const spec = buildSpec(ctx);
  // The service writes --log-file (and launchd its stdout/stderr) there; it must exist beforehand.
  Deno.mkdirSync(reroot(ctx.root, spec.logDir), { recursive: true });
  for (const file of plan.files) {
    const path = reroot(ctx.root, file.path);
    Deno.mkdirSync(parent(path), { recursive: true });
    // Settings such as DATABASE_URL may hold passwords: owner-only where the OS has modes.
    Deno.writeFileSync(path, file.utf16 ? utf16(file.text) : new TextEncoder().encode(file.text), {
      mode: 0o600,
    });
    if (Deno.build.os !== "windows") Deno.chmodSync(path, 0o600);
    ctx.print(`wrote ${plan.kind}: ${file.path}`);
  }
  const ok = await runAll(ctx, plan.install, true);
  for (const note of plan.notes) ctx.print(note);
  return ok;
}

/** Disables the service and removes its files; false when nothing was installed. */
export async function uninstall(ctx: ServiceContext): Promise<boolean> {
  const plan = planFor(ctx);
  const present = plan.files.filter((f) => exists(reroot(ctx.root, f.path)));
  if (!present.length) {
    ctx.print(`no ${plan.kind} installed (looked for ${plan.files.map((f) => f.path).join(", ")})`);
    return false;
  }
  await runAll(ctx, plan.uninstall, false);
  for (const file of present) {
    Deno.removeSync(reroot(ctx.root, file.path));
    ctx.print(`removed ${file.path}`);
  }
  await runAll(ctx, plan.cleanup, false);
  for (const note of plan.uninstallNotes) ctx.print(note);
  return true;
}

export interface ServiceStatus {
  kind: string;
  files: { path: string; present: boolean }[];
  installed: boolean;
  enabled: string;
  running: string;
  daemon: { url?: string; answering: boolean; version?: string; detail: string };
}

/** Installed (files), enabled and running (the service manager, "unknown" without it), answering (/healthz). */
export async function status(ctx: ServiceContext, timeoutMs = 2000): Promise<ServiceStatus> {
  const plan = planFor(ctx);
  const files = plan.files.map((f) => ({ path: f.path, present: exists(reroot(ctx.root, f.path)) }));
  const answers = [];
  for (const cmd of plan.status) answers.push(await ctx.run(cmd));
  return {
    kind: plan.kind,
    files,
    installed: files.every((f) => f.present),
    ...plan.parse(answers),
    daemon: await probe(ctx.loaded.config.home, timeoutMs),
  };
}

async function probe(home: string, timeoutMs: number): Promise<ServiceStatus["daemon"]> {
  const info = readDaemonInfo(home);
  if (!info) return { answering: false, detail: `no daemon.json in ${home}` };
  try {
    const res = await fetch(new URL("/healthz", info.url), { signal: AbortSignal.timeout(timeoutMs) });
    const body = await res.json().catch(() => ({}));
    if (res.ok) return { url: info.url, answering: true, version: body.version, detail: "answering" };
    return { url: info.url, answering: false, detail: `answered HTTP ${res.status}` };
  } catch (e) {
    const why = (e as Error).name === "TimeoutError" ? `no answer in ${timeoutMs} ms` : (e as Error).message;
    return { url: info.url, answering: false, detail: why };
  }
}

// ---- the commands ---------------------------------------------------------------------------------

/** The `daemon install|uninstall|status` options. */
export type ServiceOptions = GlobalOptions & { system?: boolean };

function contextFor(opts: ServiceOptions): ServiceContext {
  const os = Deno.build.os;
  if (os !== "linux" && os !== "darwin" && os !== "windows") {
    throw new AppError("failed", `no service manager support on ${os}: run \`stratavore daemon\` yourself`);
  }
  const env = Deno.env.toObject();
  // Test-only: files go under this folder and service-manager commands are printed, never run.
  const root = env.STRATAVORE_SERVICE_ROOT || undefined;
  // With --json, stdout holds only the JSON: progress and "would run" lines go to stderr.
  const print = (line: string) => opts.json ? console.error(line) : console.log(line);
  const user = userInfo().username;
  return {
    os,
    system: opts.system === true,
    loaded: contextFrom(opts).loaded,
    self: daemonCommand(),
    user,
    userId: env.USERDOMAIN ? `${env.USERDOMAIN}\\${user}` : user,
    userHome: (os === "windows" ? env.USERPROFILE : env.HOME) ?? env.HOME ?? env.USERPROFILE ?? ".",
    env,
    root,
    run: root ? dryRunner(print) : realRunner,
    print,
  };
}

export async function installCommand(opts: ServiceOptions): Promise<void> {
  if (!await install(contextFor(opts))) {
    throw new AppError(
      "failed",
      "the service file is written, but the service manager did not take it (see above)",
    );
  }
}

/** Nothing installed is not an error: uninstall is idempotent, it says what it looked for. */
export async function uninstallCommand(opts: ServiceOptions): Promise<void> {
  await uninstall(contextFor(opts));
}

export async function statusCommand(opts: ServiceOptions): Promise<void> {
  const s = await status(contextFor(opts));
  if (opts.json) {
    console.log(JSON.stringify(s, null, 2));
    return;
  }
  const files = s.files.map((f) => `${f.path}${f.present ? "" : " (missing)"}`).join(", ");
  console.log(`service:  ${s.kind}, ${s.installed ? "installed" : "not installed"}: ${files}`);
  console.log(`enabled:  ${s.enabled}`);
  console.log(`running:  ${s.running}`);
  const d = s.daemon;
  console.log(
    `daemon:   ${
      d.answering
        ? `answering at ${d.url} (version ${d.version})`
        : `${d.detail}${d.url ? ` (${d.url})` : ""}`
    }`,
  );
}
