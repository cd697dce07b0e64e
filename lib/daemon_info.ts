/**
 * The running daemon's files in $STRATAVORE_HOME: daemon.lock, held for its lifetime, and daemon.json, where
 * it listens (for the CLI, lib/discover.ts, and services).
 */
import { z } from "zod";
import { AppError } from "./errors.ts";
import { homePath } from "./home.ts";
import { ensurePrivateDir } from "./private_files.ts";

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
