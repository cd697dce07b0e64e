/** Files in $STRATAVORE_HOME that the daemon writes and the CLI and agent read. */
import { z } from "zod";
import { AppError } from "./errors.ts";
import { ensurePrivateDir } from "./private_files.ts";

const SEP = Deno.build.os === "windows" ? "\\" : "/";

export function homePath(home: string, ...parts: string[]): string {
  return [home.replace(/[\\/]+$/, ""), ...parts].join(SEP);
}

/** homePath with another OS's separator: service files are generated for a target OS (and tested anywhere). */
export function homePathFor(os: string, home: string, ...parts: string[]): string {
  return [home.replace(/[\\/]+$/, ""), ...parts].join(os === "windows" ? "\\" : "/");
}

export const daemonInfo = z.object({
  pid: z.number(),
  url: z.string(),
  metricsUrl: z.string().optional(),
  version: z.string(),
  startedAt: z.string(),
  home: z.string(),
  database: z.string(),
});
export type DaemonInfo = z.infer<typeof daemonInfo>;

export function readDaemonInfo(home: string): DaemonInfo | undefined {
  let text: string;
  try {
    text = Deno.readTextFileSync(homePath(home, "daemon.json"));
  } catch {
    return undefined;
  }
  try {
    const r = daemonInfo.safeParse(JSON.parse(text));
    return r.success ? r.data : undefined;
  } catch {
    return undefined;
  }
}

export function writeDaemonInfo(home: string, info: DaemonInfo): void {
  const path = homePath(home, "daemon.json");
  Deno.writeTextFileSync(path + ".tmp", JSON.stringify(info, null, 2) + "\n", { mode: 0o600 });
  Deno.renameSync(path + ".tmp", path);
}

export function removeDaemonInfo(home: string): void {
  try {
    Deno.removeSync(homePath(home, "daemon.json"));
  } catch { /* already gone */ }
}

/** The admin API token, created on first start (mode 0600 where the OS has modes). */
export function ensureApiToken(home: string): string {
  const path = homePath(home, "api-token");
  const existing = readApiToken(home);
  if (existing) return existing;
  const bytes = crypto.getRandomValues(new Uint8Array(32));
  const token = "sv_" + base64url(bytes);
  Deno.writeTextFileSync(path, token + "\n", { mode: 0o600, createNew: false });
  if (Deno.build.os !== "windows") Deno.chmodSync(path, 0o600);
  return token;
}

export function readApiToken(home: string): string | undefined {
  try {
    const t = Deno.readTextFileSync(homePath(home, "api-token")).trim();
    return t || undefined;
  } catch {
    return undefined;
  }
}

export function base64url(bytes: Uint8Array): string {
  let s = "";
  for (const b of bytes) s += String.fromCharCode(b);
  return btoa(s).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

/**
 * Holds $STRATAVORE_HOME/daemon.lock for the daemon's lifetime: a second daemon on the same home
 * (which would corrupt an embedded database) is refused with a message naming the first.
 */
export async function lockHome(home: string): Promise<Deno.FsFile> {
  await ensurePrivateDir(home);
  const file = await Deno.open(homePath(home, "daemon.lock"), { create: true, read: true, write: true });
  const locked = await file.tryLock(true);
  if (!locked) {
    file.close();
    const info = readDaemonInfo(home);
    const who = info ? ` (pid ${info.pid}, ${info.url})` : "";
    throw new AppError(
      "already_running",
      `another stratavore daemon is already running on ${home}${who}: stop it first, or give this one another --home`,
    );
  }
  return file;
}
