/**
 * $STRATAVORE_HOME is private to its user: folders 0700, files 0600. The database there decides what
 * commands run (a project's `command` runs as the daemon's user), and transcripts, terminal logs and the
 * daemon log hold whatever sessions saw. Under the usual umask 022 all of it was readable by every local
 * user, and PGlite's files (created 0666) writable too. So the daemon and the agent run with umask 077, the
 * folders are 0700 (which keeps out even PGlite's own 0666 files, tightened at open and close as well), and
 * the daemon tightens anything looser at start, saying so as ssh does.
 *
 * Sessions are the user's own work, not ours: they are spawned with the umask the process started with, so
 * files they create in a project keep the user's usual modes.
 *
 * Deno.umask rather than node:process: loading Node's process module cost every CLI command and agent ~10 ms
 * of CPU and ~2 MB (docs/performance.md, footprint).
 */
export const PRIVATE_DIR_MODE = 0o700;
export const PRIVATE_FILE_MODE = 0o600;

const POSIX = Deno.build.os !== "windows";

/** The umask this process started with (before privateUmask), for the sessions it spawns. */
let userUmask: number | undefined;

/**
 * From now on this process creates files 0600 and folders 0700 when it (or a library) asks for the usual
 * 0666/0777; an explicit chmod (as PGlite's file system does) still wins, hence tightenTree.
 */
export function privateUmask(): void {
  if (!POSIX || userUmask !== undefined) return;
  userUmask = Deno.umask(0o077);
}

/**
 * Runs `spawn` (which must start its process synchronously) under the user's own umask, so a session or an
 * agent does not inherit ours. JS runs one thing at a time, so nothing else is created meanwhile.
 */
export function withUserUmask<T>(spawn: () => T): T {
  if (!POSIX || userUmask === undefined) return spawn();
  const ours = Deno.umask(userUmask);
  try {
    return spawn();
  } finally {
    Deno.umask(ours);
  }
}

/** Creates a private folder (and any missing parents) and makes sure the folder itself is 0700. */
export async function ensurePrivateDir(path: string): Promise<void> {
  await Deno.mkdir(path, { recursive: true, mode: PRIVATE_DIR_MODE });
  if (POSIX) await Deno.chmod(path, PRIVATE_DIR_MODE);
}

export interface Loosened {
  path: string;
  dir: boolean;
  /** The mode found, e.g. "0755". */
  was: string;
}

/**
 * Walks `root` (not following symbolic links) and takes group and other permissions away from every folder
 * and file; returns what was looser. Files keep their owner bits (an executable stays executable).
 */
export async function tightenTree(root: string): Promise<Loosened[]> {
  if (!POSIX) return [];
  const fixed: Loosened[] = [];
  const visit = async (path: string): Promise<void> => {
    let info: Deno.FileInfo;
    try {
      info = await Deno.lstat(path);
    } catch {
      return; // gone meanwhile
    }
    if (info.isSymlink) return;
    const mode = (info.mode ?? 0) & 0o777;
    if (mode & 0o077) {
      const want = info.isDirectory ? PRIVATE_DIR_MODE : mode & 0o700;
      await Deno.chmod(path, want).catch(() => {});
      fixed.push({ path, dir: info.isDirectory, was: "0" + mode.toString(8) });
    }
    if (!info.isDirectory) return;
    const children: string[] = [];
    try {
      for await (const e of Deno.readDir(path)) children.push(`${path}/${e.name}`);
    } catch {
      return;
    }
    for (const child of children) await visit(child);
  };
  await visit(root.replace(/\/+$/, "") || "/");
  return fixed;
}
