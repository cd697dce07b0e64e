/** Temp folders and a portable recursive copy (no `cp`, so the suite also runs on Windows). */

/**
 * Where test homes and databases live: in memory (/dev/shm) where the system has it, since every PGlite test
 * copies a 40 MB data folder and the disk need not write any of it; the temp folder elsewhere.
 * STRATAVORE_TEST_TMPDIR chooses another place.
 */
export const TEST_TMP = Deno.env.get("STRATAVORE_TEST_TMPDIR") ?? (inMemory("/dev/shm") ??
  Deno.env.get("TMPDIR") ?? "/tmp");

function inMemory(dir: string): string | undefined {
  if (Deno.build.os !== "linux") return undefined;
  try {
    Deno.removeSync(Deno.makeTempDirSync({ dir, prefix: "stratavore-probe-" }));
    return dir;
  } catch {
    return undefined;
  }
}

export async function tempDir(prefix = "stratavore-test-"): Promise<string> {
  return await Deno.makeTempDir({ dir: TEST_TMP, prefix });
}

/**
 * A temp folder on disk, for tests that run the program with narrower permissions than --allow-all: Deno
 * asks for all access to anything under /dev, /dev/shm included.
 */
export async function diskTempDir(prefix = "stratavore-test-"): Promise<string> {
  return await Deno.makeTempDir({ prefix });
}

export async function copyDir(from: string, to: string): Promise<void> {
  await Deno.mkdir(to, { recursive: true });
  const jobs: Promise<void>[] = [];
  for await (const entry of Deno.readDir(from)) {
    const src = `${from}/${entry.name}`;
    const dst = `${to}/${entry.name}`;
    if (entry.isDirectory) jobs.push(copyDir(src, dst));
    else if (entry.isFile) jobs.push(Deno.copyFile(src, dst));
  }
  await Promise.all(jobs);
}

export async function removeDir(path: string): Promise<void> {
  await Deno.remove(path, { recursive: true }).catch(() => {});
}
