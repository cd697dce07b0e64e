/** Real git repositories in temp folders, for the worktree tests. */
import { tempDir } from "./fs.ts";

export const GIT_TEST_ENV = {
  GIT_AUTHOR_NAME: "Test",
  GIT_AUTHOR_EMAIL: "test@example.com",
  GIT_COMMITTER_NAME: "Test",
  GIT_COMMITTER_EMAIL: "test@example.com",
  GIT_CONFIG_NOSYSTEM: "1",
  GIT_CONFIG_GLOBAL: "/dev/null",
};

/** Runs git in `cwd` and returns its stdout; throws with stderr when it fails. */
export async function sh(cwd: string, ...args: string[]): Promise<string> {
  const out = await new Deno.Command("git", {
    args,
    cwd,
    env: GIT_TEST_ENV,
    stdout: "piped",
    stderr: "piped",
  }).output();
  const dec = new TextDecoder();
  if (out.code !== 0) throw new Error(`git ${args.join(" ")}: ${dec.decode(out.stderr)}`);
  return dec.decode(out.stdout);
}

/** A repository on branch main with one commit holding a.txt and src/b.txt; returns its folder. */
export async function gitRepo(): Promise<string> {
  const dir = await Deno.realPath(await tempDir("stratavore-repo-"));
  await sh(dir, "init", "--quiet", "--initial-branch=main");
  await Deno.writeTextFile(`${dir}/a.txt`, "one\ntwo\nthree\n");
  await Deno.mkdir(`${dir}/src`);
  await Deno.writeTextFile(`${dir}/src/b.txt`, "bee\n");
  await sh(dir, "add", "-A");
  await sh(dir, "commit", "--quiet", "-m", "first");
  return dir;
}

/** Commits everything in a worktree. */
export async function commitAll(dir: string, message: string): Promise<void> {
  await sh(dir, "add", "-A");
  await sh(dir, "commit", "--quiet", "-m", message);
}
