/** Temp folders and a portable recursive copy (no `cp`, so the suite also runs on Windows). */

export async function tempDir(prefix = "stratavore-test-"): Promise<string> {
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
