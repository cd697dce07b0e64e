/** lib/worktree.ts on real git repositories in temp folders. */
import { assert, assertEquals, assertRejects } from "../helpers/assert.ts";
import { removeDir, tempDir } from "../helpers/fs.ts";
import { commitAll, gitRepo, sh } from "../helpers/git.ts";
import {
  checkWorktree,
  createWorktree,
  diffBranch,
  diffWorktree,
  disposeWorktree,
  exists,
  removeWorktree,
  reopenWorktree,
  worktreeBranch,
  worktreeStatus,
} from "../../lib/worktree.ts";
import { isAppError } from "../../lib/errors.ts";

async function setup() {
  const repo = await gitRepo();
  const root = await Deno.realPath(await tempDir("stratavore-wts-"));
  return {
    repo,
    root,
    async [Symbol.asyncDispose]() {
      await removeDir(repo);
      await removeDir(root);
    },
  };
}

Deno.test("worktree: made on its own branch from the folder's HEAD, outside the repository", async () => {
  await using t = await setup();
  const wt = await createWorktree({
    folder: t.repo,
    branch: worktreeBranch("api", 7),
    path: `${t.root}/api/7`,
  });
  assertEquals(wt.branch, "stratavore/api/7");
  assertEquals(wt.base, "main");
  assertEquals(wt.baseSha, (await sh(t.repo, "rev-parse", "HEAD")).trim());
  assertEquals(wt.repo, t.repo);
  assertEquals(wt.cwd, `${t.root}/api/7`);
  assertEquals((await sh(wt.path, "branch", "--show-current")).trim(), "stratavore/api/7");
  assertEquals(await Deno.readTextFile(`${wt.path}/a.txt`), "one\ntwo\nthree\n");
  const status = await worktreeStatus(wt.path, wt.baseSha, wt.base);
  assertEquals([status.ahead, status.behind, status.dirty, status.files], [0, 0, false, 0]);
});

Deno.test("worktree: three of one project are separate; changes in one are invisible in the others", async () => {
  await using t = await setup();
  const wts = await Promise.all(
    [1, 2, 3].map((n) =>
      createWorktree({ folder: t.repo, branch: worktreeBranch("api", n), path: `${t.root}/api/${n}` })
    ),
  );
  assertEquals(new Set(wts.map((w) => w.branch)).size, 3);
  await Deno.writeTextFile(`${wts[0].path}/a.txt`, "one\nTWO\nthree\n");
  await Deno.writeTextFile(`${wts[1].path}/new.txt`, "fresh\n");
  await commitAll(wts[1].path, "add new.txt");
  assertEquals(await Deno.readTextFile(`${wts[1].path}/a.txt`), "one\ntwo\nthree\n");
  assertEquals(exists(`${wts[0].path}/new.txt`), false);
  assertEquals(exists(`${wts[2].path}/new.txt`), false);
  assertEquals(exists(`${t.repo}/new.txt`), false);
  assertEquals(await Deno.readTextFile(`${t.repo}/a.txt`), "one\ntwo\nthree\n");
  const [s0, s1, s2] = await Promise.all(wts.map((w) => worktreeStatus(w.path, w.baseSha, w.base)));
  assertEquals([s0.ahead, s0.dirty, s0.files, s0.insertions, s0.deletions], [0, true, 1, 1, 1]);
  assertEquals([s1.ahead, s1.dirty, s1.files, s1.insertions, s1.deletions], [1, false, 1, 1, 0]);
  assertEquals(s1.changed, [{ path: "new.txt", added: 1, deleted: 0 }]);
  assertEquals([s2.ahead, s2.dirty, s2.files], [0, false, 0]);
});

Deno.test("worktree: status and diff count committed, uncommitted and untracked work; behind follows the base branch", async () => {
  await using t = await setup();
  const wt = await createWorktree({ folder: t.repo, branch: "stratavore/api/x", path: `${t.root}/x` });
  await Deno.writeTextFile(`${wt.path}/a.txt`, "one\nthree\nfour\n"); // -two +four
  await commitAll(wt.path, "edit a");
  await Deno.remove(`${wt.path}/src/b.txt`); // uncommitted deletion
  await Deno.writeTextFile(`${wt.path}/untracked.md`, "# hi\nthere\n"); // untracked
  await Deno.writeTextFile(`${wt.path}/bin.dat`, new TextDecoder().decode(new Uint8Array([0, 1, 2, 0, 255])));
  // The base branch moves on in the project's folder.
  await Deno.writeTextFile(`${t.repo}/c.txt`, "c\n");
  await commitAll(t.repo, "c on main");
  const indexBefore = await sh(wt.path, "status", "--porcelain");
  const s = await worktreeStatus(wt.path, wt.baseSha, wt.base);
  assertEquals([s.ahead, s.behind, s.dirty], [1, 1, true]);
  assertEquals(s.changed.map((f) => f.path).sort(), ["a.txt", "bin.dat", "src/b.txt", "untracked.md"]);
  assertEquals(s.changed.find((f) => f.path === "bin.dat"), { path: "bin.dat", added: null, deleted: null });
  assertEquals([s.files, s.insertions, s.deletions], [4, 1 + 2, 1 + 1]);
  const d = await diffWorktree(wt.path, wt.baseSha);
  assertEquals(d.truncated, false);
  const byPath = Object.fromEntries(d.files.map((f) => [f.path, f]));
  assertEquals(byPath["a.txt"].status, "modified");
  assert(byPath["a.txt"].patch.includes("-two\n"), byPath["a.txt"].patch);
  assert(byPath["a.txt"].patch.includes("+four\n"), byPath["a.txt"].patch);
  assertEquals(byPath["src/b.txt"].status, "deleted");
  assertEquals(byPath["untracked.md"].status, "added");
  assertEquals([byPath["untracked.md"].added, byPath["untracked.md"].deleted], [2, 0]);
  assert(byPath["untracked.md"].patch.startsWith("diff --git a/untracked.md b/untracked.md"));
  assertEquals(byPath["bin.dat"].binary, true);
  // c.txt came to main after the base: not the session's change.
  assertEquals(byPath["c.txt"], undefined);
  // Only some paths, and the stat alone.
  const some = await diffWorktree(wt.path, wt.baseSha, { paths: ["src"], statOnly: true });
  assertEquals(some.files.map((f) => [f.path, f.status, f.patch]), [["src/b.txt", "deleted", ""]]);
  // The worktree's own index is untouched: untracked files are still untracked.
  assertEquals(await sh(wt.path, "status", "--porcelain"), indexBefore);
  // Cut beyond a size, whole files at a time.
  const cut = await diffWorktree(wt.path, wt.baseSha, { maxBytes: 200 });
  assertEquals(cut.truncated, true);
  assert(cut.files.length < d.files.length);
});

Deno.test("worktree: a rename is one file", async () => {
  await using t = await setup();
  const wt = await createWorktree({ folder: t.repo, branch: "stratavore/api/r", path: `${t.root}/r` });
  await sh(wt.path, "mv", "a.txt", "renamed.txt");
  const d = await diffWorktree(wt.path, wt.baseSha);
  assertEquals(d.files.map((f) => [f.from, f.path, f.status]), [["a.txt", "renamed.txt", "renamed"]]);
});

Deno.test("worktree: at the end, nothing done → removed with its branch; commits or changes → kept", async () => {
  await using t = await setup();
  const mk = (n: string) =>
    createWorktree({ folder: t.repo, branch: `stratavore/api/${n}`, path: `${t.root}/${n}` });
  const [clean, committed, dirty] = [await mk("clean"), await mk("committed"), await mk("dirty")];
  await Deno.writeTextFile(`${committed.path}/x.txt`, "x\n");
  await commitAll(committed.path, "x");
  await Deno.writeTextFile(`${dirty.path}/y.txt`, "y\n");
  const a = await disposeWorktree(clean);
  assertEquals([a.removed, exists(clean.path)], [true, false]);
  assertEquals((await sh(t.repo, "branch", "--list", clean.branch)).trim(), "");
  const b = await disposeWorktree(committed);
  assertEquals([b.removed, b.note, exists(committed.path)], [false, "kept: 1 commit(s)", true]);
  const c = await disposeWorktree(dirty);
  assertEquals([c.removed, c.note, exists(dirty.path)], [false, "kept: uncommitted changes", true]);
  // Removing by hand: a dirty one needs force; the branch stays unless asked.
  await assertRejects(
    () => removeWorktree(t.repo, dirty.path, dirty.branch, {}),
    undefined,
    "uncommitted changes",
  );
  await removeWorktree(t.repo, dirty.path, dirty.branch, { force: true });
  assertEquals(exists(dirty.path), false);
  assertEquals((await sh(t.repo, "branch", "--list", dirty.branch)).trim(), dirty.branch);
  await removeWorktree(t.repo, committed.path, committed.branch, { deleteBranch: true });
  assertEquals((await sh(t.repo, "branch", "--list", committed.branch)).trim(), "");
});

Deno.test("worktree: reopened as it is, or again from its kept branch; diff from the branch alone", async () => {
  await using t = await setup();
  const wt = await createWorktree({ folder: t.repo, branch: "stratavore/api/re", path: `${t.root}/re` });
  await Deno.writeTextFile(`${wt.path}/x.txt`, "x\n");
  await commitAll(wt.path, "x");
  assertEquals((await reopenWorktree(wt)).path, wt.path);
  await removeWorktree(t.repo, wt.path, wt.branch, {});
  const fromBranch = await diffBranch(t.repo, wt.baseSha, wt.branch);
  assertEquals(fromBranch.files.map((f) => [f.path, f.status, f.added]), [["x.txt", "added", 1]]);
  const again = await reopenWorktree(wt);
  assertEquals(await Deno.readTextFile(`${again.path}/x.txt`), "x\n");
  assertEquals((await sh(again.path, "branch", "--show-current")).trim(), wt.branch);
});

Deno.test("worktree: a project in a subfolder of its repository runs in the same subfolder of the worktree", async () => {
  await using t = await setup();
  const wt = await createWorktree({
    folder: `${t.repo}/src`,
    branch: "stratavore/sub/1",
    path: `${t.root}/sub`,
  });
  assertEquals(wt.repo, t.repo);
  assertEquals(wt.cwd, `${t.root}/sub/src`);
  assertEquals(await Deno.readTextFile(`${wt.cwd}/b.txt`), "bee\n");
});

Deno.test("worktree: clear errors (not a repository, no commit, unknown base, branch or folder taken, dirty base)", async () => {
  await using t = await setup();
  const reason = async (p: Promise<unknown>) => {
    try {
      await p;
    } catch (e) {
      if (isAppError(e)) return [e.code, (e.details as { reason: string }).reason, e.message];
      throw e;
    }
    throw new Error("expected an error");
  };
  const plain = await Deno.realPath(await tempDir());
  try {
    const [code, why, msg] = await reason(checkWorktree({ folder: plain, branch: "b", path: `${t.root}/p` }));
    assertEquals([code, why], ["bad_request", "not_a_repository"]);
    assert(String(msg).includes("is not in a git repository"), String(msg));
    await sh(plain, "init", "--quiet");
    assertEquals(
      (await reason(checkWorktree({ folder: plain, branch: "b", path: `${t.root}/p` }))).slice(0, 2),
      ["bad_request", "no_commit"],
    );
  } finally {
    await removeDir(plain);
  }
  assertEquals(
    (await reason(checkWorktree({ folder: t.repo, branch: "b", base: "nope", path: `${t.root}/p` }))).slice(
      0,
      2,
    ),
    ["bad_request", "unknown_base"],
  );
  await sh(t.repo, "branch", "stratavore/api/taken");
  const taken = await reason(
    checkWorktree({ folder: t.repo, branch: "stratavore/api/taken", path: `${t.root}/p` }),
  );
  assertEquals(taken.slice(0, 2), ["conflict", "branch_exists"]);
  assert(String(taken[2]).includes("already exists"));
  await Deno.mkdir(`${t.root}/here`);
  assertEquals(
    (await reason(checkWorktree({ folder: t.repo, branch: "b2", path: `${t.root}/here` }))).slice(0, 2),
    ["conflict", "path_exists"],
  );
  await Deno.writeTextFile(`${t.repo}/a.txt`, "changed\n");
  assertEquals(
    (await reason(
      checkWorktree({ folder: t.repo, branch: "b3", path: `${t.root}/p3`, requireCleanBase: true }),
    ))
      .slice(0, 2),
    ["conflict", "dirty_base"],
  );
  // Without the requirement a dirty base is fine: the worktree starts from the last commit.
  const wt = await createWorktree({ folder: t.repo, branch: "b3", path: `${t.root}/p3` });
  assertEquals(await Deno.readTextFile(`${wt.path}/a.txt`), "one\ntwo\nthree\n");
  // A tag or a commit as the base.
  await sh(t.repo, "tag", "v1");
  const tagged = await createWorktree({ folder: t.repo, branch: "b4", base: "v1", path: `${t.root}/p4` });
  assertEquals([tagged.base, tagged.baseSha], ["v1", wt.baseSha]);
});

Deno.test("worktree: git missing is a clear error", async () => {
  const path = Deno.env.get("PATH")!;
  Deno.env.set("PATH", "/nonexistent");
  try {
    await assertRejects(
      () => checkWorktree({ folder: "/tmp", branch: "b", path: "/tmp/x" }),
      undefined,
      "git is not installed",
    );
  } finally {
    Deno.env.set("PATH", path);
  }
});
