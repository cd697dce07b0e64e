/**
 * Worktrees end to end on real git repositories: a real daemon, agents it starts (headless and attachable)
 * and agents in the foreground, each runner in a worktree of its own; diff, stat, cleanup, errors.
 */
import postgres from "postgres";
import {
  assert,
  assertEquals,
  assertMatch,
  assertRejects,
  assertStringIncludes,
  eventually,
} from "../helpers/assert.ts";
import { type DaemonTest, eachDaemon, startDaemon } from "../helpers/daemon.ts";
import { freshPostgres } from "../helpers/db.ts";
import { FAST_TIER, SKIP_PG } from "../helpers/env.ts";
import { StratavoreClient } from "../../lib/client.ts";
import { spawnAgent } from "../helpers/agent.ts";
import { runStratavore } from "../helpers/cli.ts";
import { removeDir, tempDir } from "../helpers/fs.ts";
import { gitRepo, sh } from "../helpers/git.ts";
import { ApiError } from "../../lib/client.ts";
import type { Runner } from "../../lib/schemas/runner.ts";
import { exists } from "../../lib/worktree.ts";

const FAST = { STRATAVORE_HEARTBEAT_INTERVAL: "1s" };

async function until(t: DaemonTest, id: number, ok: (r: Runner) => boolean, what: string): Promise<Runner> {
  return await eventually(
    async () => {
      const r = await t.client.getRunner(id);
      return ok(r) ? r : undefined;
    },
    60_000,
    `runner ${id}: ${what}`,
  );
}

const ended = (r: Runner) => r.state === "stopped" || r.state === "failed" || r.state === "killed";

function procCwd(pid: number): string {
  return Deno.readLinkSync(`/proc/${pid}/cwd`);
}

eachDaemon(
  "worktrees: three concurrent runners of one project each get a worktree and branch; diff, stat, cleanup",
  async (t) => {
    const repo = await gitRepo();
    const go = `${t.daemon.home}/go`;
    const cli = (args: string[]) => runStratavore(args, { env: { ...t.env, ...FAST }, cwd: repo });
    try {
      assertEquals(
        (await cli(["new", "wt", "--path", repo, "--command", "sh", "--worktree", "auto"])).code,
        0,
      );
      // Each run's prompt is sh's $0: 1 edits and adds a file, 2 commits one, 3 does nothing.
      const script = `case "$0" in
        1) echo one > mine.txt; sed -i s/two/TWO/ a.txt;;
        2) echo two > mine.txt; git add mine.txt; git -c user.name=t -c user.email=t@e commit -qm two;;
      esac
      while [ ! -e '${go}' ]; do sleep 0.1; done`;
      const ids: number[] = [];
      for (const n of ["1", "2", "3"]) {
        ids.push(
          (await t.client.launch({ project: "wt", spawn: true, prompt: n, args: ["-c", script] })).runner.id,
        );
      }
      const rs = await Promise.all(ids.map((id, i) =>
        until(
          t,
          id,
          (r) =>
            r.state === "running" && r.pid !== null && r.worktree?.state === "active" &&
            (i === 2 || (r.worktree.status?.files ?? 0) > 0),
          "running in its worktree with its changes seen",
        )
      ));
      const root = `${t.daemon.home}/worktrees/wt`;
      for (const [i, r] of rs.entries()) {
        assertEquals(r.worktree!.branch, `stratavore/wt/${ids[i]}`);
        assertEquals(r.worktree!.path, `${root}/${ids[i]}`);
        assertEquals(r.cwd, `${root}/${ids[i]}`);
        assertEquals(r.worktree!.base, "main");
        assertEquals(procCwd(r.pid!), r.cwd, "the session's process runs in the worktree");
        assertEquals((await sh(r.cwd, "branch", "--show-current")).trim(), r.worktree!.branch);
      }
      // Changes in one are invisible in the others and in the project's folder.
      assertEquals(await Deno.readTextFile(`${rs[0].cwd}/mine.txt`), "one\n");
      assertEquals(await Deno.readTextFile(`${rs[1].cwd}/mine.txt`), "two\n");
      assertEquals(exists(`${rs[2].cwd}/mine.txt`), false);
      assertEquals(exists(`${repo}/mine.txt`), false);
      assertEquals(await Deno.readTextFile(`${rs[1].cwd}/a.txt`), "one\ntwo\nthree\n");
      assertEquals(await Deno.readTextFile(`${repo}/a.txt`), "one\ntwo\nthree\n");
      const [s1, s2, s3] = rs.map((r) => r.worktree!.status!);
      assertEquals([s1.ahead, s1.dirty, s1.files, s1.insertions, s1.deletions], [0, true, 2, 2, 1]);
      assertEquals([s2.ahead, s2.dirty, s2.files, s2.insertions, s2.deletions], [1, false, 1, 1, 0]);
      assertEquals([s3.ahead, s3.dirty, s3.files], [0, false, 0]);

      // diff and --stat, through the CLI (read here) and the API (read by the daemon).
      const stat = await cli(["diff", String(ids[0]), "--stat"]);
      assertEquals(stat.code, 0, stat.stderr);
      assertMatch(stat.stdout, /a\.txt\s+\| 2 \+-/);
      assertMatch(stat.stdout, /mine\.txt\s+\| 1 \+/);
      assertStringIncludes(stat.stdout, "2 files changed, 2 insertions(+), 1 deletion(-)");
      const patch = await cli(["diff", String(ids[0])]);
      assertStringIncludes(patch.stdout, "-two\n+TWO\n");
      assertStringIncludes(patch.stdout, "+++ b/mine.txt\n@@ -0,0 +1 @@\n+one");
      const only = await cli(["--json", "diff", String(ids[0]), "--", "mine.txt"]);
      assertEquals(JSON.parse(only.stdout).files.map((f: { path: string }) => f.path), ["mine.txt"]);
      const api = await t.client.runnerDiff(ids[1]);
      assertEquals(api.source, "worktree");
      assertEquals(api.files.map((f) => [f.path, f.status, f.added, f.deleted]), [[
        "mine.txt",
        "added",
        1,
        0,
      ]]);
      const none = await cli(["diff", String(ids[2])]);
      assertEquals([none.code, none.stdout], [0, ""]);
      assertStringIncludes(none.stderr, "changed nothing");

      // The runners table has a short WORKTREE column; one runner shows its worktree in detail.
      const table = await cli(["runners"]);
      assertMatch(table.stdout, /WORKTREE/);
      assertMatch(table.stdout, new RegExp(`${ids[0]} ↑?.*2f \\+2 −1 \\*`));
      const shown = await cli(["runner", String(ids[1])]);
      assertMatch(shown.stdout, /branch:?\s+stratavore\/wt\/\d+/);
      assertMatch(shown.stdout, /1 commit\(s\) ahead; 1 file\(s\) changed, \+1 −0; nothing uncommitted/);

      // The end: the one that did nothing is removed with its branch; the others are kept.
      await Deno.writeTextFile(go, "");
      const done = await Promise.all(
        ids.map((id) =>
          until(t, id, (r) => ended(r) && r.worktree?.state !== "active", "ended, its worktree dealt with")
        ),
      );
      assertEquals(done.map((r) => r.worktree!.state), ["kept", "kept", "removed"]);
      assertEquals([exists(rs[0].cwd), exists(rs[1].cwd), exists(rs[2].cwd)], [true, true, false]);
      assertEquals(
        (await sh(repo, "branch", "--list", "stratavore/wt/*")).split("\n").filter(Boolean).length,
        2,
      );
      assertStringIncludes(done[0].worktree!.note!, "uncommitted changes");
      assertStringIncludes(done[1].worktree!.note!, "1 commit(s)");
      // The diff of an ended runner is still there.
      assertEquals((await t.client.runnerDiff(ids[0], { stat: true })).files.length, 2);

      const list = await cli(["worktrees"]);
      assertEquals(list.code, 0, list.stderr);
      assertMatch(list.stdout, new RegExp(`${ids[0]}\\s+wt\\s+\\S+\\s+kept`));
      assert(!new RegExp(`^\\s*${ids[2]}\\s`, "m").test(list.stdout), list.stdout);
      // rm: a dirty one needs --force; the branch stays unless --delete-branch.
      const refused = await cli(["worktrees", "rm", String(ids[0])]);
      assertEquals(refused.code, 1);
      assertStringIncludes(refused.stderr, "uncommitted changes");
      assertEquals((await cli(["worktrees", "rm", String(ids[0]), "--force"])).code, 0);
      assertEquals(exists(rs[0].cwd), false);
      assertEquals(
        (await sh(repo, "branch", "--list", `stratavore/wt/${ids[0]}`)).trim(),
        `stratavore/wt/${ids[0]}`,
      );
      assertEquals((await cli(["worktrees", "rm", String(ids[1]), "--delete-branch"])).code, 0);
      assertEquals((await sh(repo, "branch", "--list", `stratavore/wt/${ids[1]}`)).trim(), "");
      const after = await t.client.listWorktrees();
      assertEquals(after.length, 0);
    } finally {
      await Deno.writeTextFile(go, "").catch(() => {});
      await cli(["kill", "--all", "--project", "wt", "--yes"]);
      await removeDir(repo);
    }
  },
  { env: FAST },
);

eachDaemon(
  "worktrees: an attachable session and a foreground launch run in theirs; clear errors; prune",
  async (t) => {
    const repo = await gitRepo();
    const plain = await Deno.realPath(await tempDir());
    const env = { ...t.env, ...FAST };
    const cli = (args: string[]) => runStratavore(args, { env, cwd: repo });
    try {
      await t.client.createProject({ name: "pty", path: repo, command: "sh" });
      await t.client.createProject({ name: "plain", path: plain, command: "sh" });
      // A detached interactive (attachable) session in a named worktree.
      const { runner } = await t.client.launch({
        project: "pty",
        spawn: true,
        args: ["-c", "echo hi > f.txt; sleep 600"],
        worktree: { name: "feat" },
      });
      assertEquals(runner.mode, "pty");
      assertEquals(runner.worktree?.branch, "stratavore/pty/feat");
      const r = await until(
        t,
        runner.id,
        (r) => r.pid !== null && (r.worktree?.status?.files ?? 0) > 0,
        "working",
      );
      assertEquals(r.cwd, `${t.daemon.home}/worktrees/pty/feat`);
      assertEquals(procCwd(r.pid!), r.cwd);
      assertEquals(exists(`${repo}/f.txt`), false);

      // Clear errors: the branch is taken (by a runner, or in git), the folder is not a repository, a base
      // that does not exist. Nothing is registered for them.
      const before = (await t.client.listRunners({ all: true })).length;
      const refusal = async (body: Parameters<typeof t.client.launch>[0]) => {
        try {
          await t.client.launch(body);
        } catch (e) {
          if (e instanceof ApiError) return [e.httpStatus, e.message];
          throw e;
        }
        throw new Error("expected a refusal");
      };
      const taken = await refusal({ project: "pty", spawn: true, prompt: "x", worktree: { name: "feat" } });
      assertEquals(taken[0], 409);
      assertStringIncludes(String(taken[1]), "branch stratavore/pty/feat already exists");
      // Registered for an agent elsewhere (not checked in git here): the runners' own branches are known.
      const known = await refusal({ project: "pty", worktree: { name: "feat" } });
      assertEquals(known[0], 409);
      assertStringIncludes(String(known[1]), `branch stratavore/pty/feat belongs to runner ${runner.id}`);
      await sh(repo, "branch", "stratavore/pty/mine");
      const inGit = await refusal({ project: "pty", spawn: true, prompt: "x", worktree: { name: "mine" } });
      assertEquals(inGit[0], 409);
      assertStringIncludes(String(inGit[1]), "branch stratavore/pty/mine already exists");
      const notRepo = await refusal({ project: "plain", spawn: true, prompt: "x", worktree: {} });
      assertEquals(notRepo[0], 400);
      assertStringIncludes(String(notRepo[1]), "is not in a git repository");
      const badBase = await refusal({ project: "pty", spawn: true, prompt: "x", worktree: { base: "nope" } });
      assertEquals(badBase[0], 400);
      assertEquals((await t.client.listRunners({ all: true })).length, before);
      // The CLI says it in one line.
      const line = await runStratavore(["launch", "plain", "--worktree"], { env, cwd: plain });
      assertEquals(line.code, 1);
      assertEquals(line.stderr.trim().split("\n").length, 1, line.stderr);
      assertStringIncludes(line.stderr, "is not in a git repository");
      const badName = await cli(["launch", "pty", "--worktree", "no/slash"]);
      assertEquals(badName.code, 2);
      assertStringIncludes(badName.stderr, "a worktree name is");
      // --require-clean refuses a folder with uncommitted changes (the worktree would not have them).
      await Deno.writeTextFile(`${repo}/a.txt`, "edited\n");
      const dirty = await cli(["launch", "pty", "--worktree", "--require-clean"]);
      assertEquals(dirty.code, 1);
      assertStringIncludes(dirty.stderr, "has uncommitted changes, which the worktree would not have");
      await sh(repo, "checkout", "--", "a.txt");

      // A foreground launch: the agent makes the worktree on its machine; the session commits in it.
      const agent = spawnAgent(
        [
          "launch",
          "pty",
          "--worktree",
          "fg",
          "--",
          "-c",
          "echo fg > fg.txt; git add fg.txt; git -c user.name=t -c user.email=t@e commit -qm fg",
        ],
        { env, cwd: repo },
      );
      const out = await agent.done;
      assertEquals(out.code, 0, out.stderr);
      assertMatch(out.stderr, /started in worktree \S+\/worktrees\/pty\/fg \(branch stratavore\/pty\/fg\)/);
      assertMatch(
        out.stderr,
        /worktree kept at \S+\/worktrees\/pty\/fg \(branch stratavore\/pty\/fg: 1 commit\(s\), 1 file\(s\) \+1 −0\)/,
      );
      const fg = (await t.client.listRunners({ project: "pty", all: true })).find((x) =>
        x.worktree?.name === "fg"
      )!;
      assertEquals(fg.worktree?.state, "kept");
      assertEquals((await sh(repo, "log", "--format=%s", "-1", "stratavore/pty/fg")).trim(), "fg");
      assertEquals(exists(`${repo}/fg.txt`), false);

      // --no-worktree on a project that gives every launch one.
      await cli(["project", "set", "pty", "--worktree", "auto"]);
      const noWt = await cli(["launch", "pty", "--no-worktree", "--", "-c", "pwd"]);
      assertEquals(noWt.code, 0, noWt.stderr);
      assertEquals(noWt.stdout.trim(), repo);

      // Prune: the killed session's worktree holds f.txt (kept); one emptied by hand goes.
      await t.client.killRunner(runner.id);
      await until(t, runner.id, (r) => r.worktree?.state === "kept", "kept after the kill");
      await Deno.remove(`${r.cwd}/f.txt`);
      const pruned = await cli(["--json", "worktrees", "prune"]);
      assertEquals(pruned.code, 0, pruned.stderr);
      const res = JSON.parse(pruned.stdout);
      assertEquals(res.removed, [runner.id]);
      assertEquals(res.kept, [fg.id]);
      assertEquals(exists(r.cwd), false);
    } finally {
      await runStratavore(["kill", "--all", "--project", "pty", "--yes"], { env });
      await removeDir(repo);
      await removeDir(plain);
    }
  },
  { env: FAST },
);

const TURN = (input: number, output: number) => ({
  blocks: 3,
  usage: {
    input_tokens: input,
    output_tokens: output,
    cache_creation_input_tokens: 0,
    cache_read_input_tokens: 0,
  },
});

eachDaemon("worktrees: resume of a session reopens its worktree at the same folder", async (t) => {
  const repo = await gitRepo();
  const env = { ...t.env, ...FAST };
  try {
    await t.client.createProject({ name: "res", path: repo, worktree: "auto" });
    const first = await spawnAgent(["launch", "res"], {
      env,
      cwd: repo,
      plan: { turns: [TURN(100, 10)], hooks: [] },
    })
      .done;
    assertEquals(first.code, 0, first.stderr);
    assertMatch(first.stderr, /worktree removed \(no commits and no changes\)/);
    const [r1] = await t.client.listRunners({ project: "res", all: true });
    const path = `${t.daemon.home}/worktrees/res/${r1.id}`;
    assertEquals([r1.cwd, r1.worktree?.state], [path, "removed"]);
    const [s1] = await t.client.listSessions({ project: "res" });
    assertEquals([s1.cwd, s1.tokens.input], [path, 100]);
    assertEquals(exists(path), false);

    // The session's folder is gone with its worktree: resume makes it again at the same place (Claude Code
    // finds the session by its folder), on the same branch.
    const resumed = await runStratavore(["resume", s1.id], {
      env: { ...env, FAKE_CLAUDE_PLAN: JSON.stringify({ turns: [TURN(5, 7)], hooks: [] }) },
      cwd: "/",
    });
    assertEquals(resumed.code, 0, resumed.stderr);
    assertMatch(
      resumed.stderr,
      new RegExp(`started in worktree ${path} \\(branch stratavore/res/${r1.id}\\)`),
    );
    const runners = await t.client.listRunners({ project: "res", all: true });
    assertEquals(runners.length, 2);
    const r2 = runners[0];
    assertEquals([r2.cwd, r2.sessionId, r2.worktree?.branch], [path, s1.id, `stratavore/res/${r1.id}`]);
    assertEquals((await t.client.getRunner(r1.id)).worktree?.state, "reopened");
    const s2 = await t.client.getSession(s1.id);
    assertEquals([s2.tokens.input, s2.tokens.output, s2.runners], [105, 17, 2]);
    // Nothing was done this time either: removed again, and nothing is listed.
    assertEquals(r2.worktree?.state, "removed");
    assertEquals((await t.client.listWorktrees()).length, 0);
  } finally {
    await removeDir(repo);
  }
}, { env: FAST });

Deno.test({
  name: "worktrees: with two daemons, a worktree lives on its runner's machine and is read there [postgres]",
  ignore: SKIP_PG || FAST_TIER,
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    const pg = await freshPostgres();
    const repo = await gitRepo();
    // Daemon b keeps its worktrees in a folder of its own choosing (STRATAVORE_WORKTREES).
    const custom = await Deno.realPath(await tempDir("stratavore-wts-"));
    const [a, b] = await Promise.all([
      startDaemon({ databaseUrl: pg.url, env: FAST }),
      startDaemon({ databaseUrl: pg.url, env: { ...FAST, STRATAVORE_WORKTREES: custom } }),
    ]);
    const ca = new StratavoreClient({ url: a.url, token: a.token });
    const cb = new StratavoreClient({ url: b.url, token: b.token });
    try {
      await ca.createProject({ name: "two", path: repo, command: "sh", worktree: "auto" });
      // Launched through daemon b: its agent makes the worktree under b's home.
      const { runner } = await cb.launch({
        project: "two",
        spawn: true,
        prompt: "x",
        args: ["-c", "echo b > b.txt; sleep 600"],
      });
      const r = await eventually(
        async () => {
          const r = await ca.getRunner(runner.id);
          return r.worktree?.status?.files === 1 ? r : undefined;
        },
        60_000,
        "the worktree's status, seen through daemon a",
      );
      assertEquals(r.worktree?.path, `${custom}/two/${runner.id}`);
      assertEquals(r.cwd, r.worktree?.path);
      // Daemon a is on the same machine here: it reads the worktree too.
      assertEquals((await ca.runnerDiff(runner.id)).files.map((f) => f.path), ["b.txt"]);
      assertEquals((await ca.listWorktrees()).map((x) => x.id), [runner.id]);
      await ca.killRunner(runner.id);
      await eventually(
        async () => (await ca.getRunner(runner.id)).worktree?.state === "kept",
        30_000,
        "kept after the kill",
      );
      // As a daemon on another machine sees it: the folder is not there; it says where it is.
      const sql = postgres(pg.url, { max: 1, onnotice: () => {} });
      await sql`UPDATE runners SET worktree = worktree || ${
        sql.json({ host: "other-box", path: "/nonexistent/wt", repo: "/nonexistent/repo" })
      }::jsonb WHERE id = ${runner.id}`;
      await sql.end();
      const refused = await assertRejects(() => ca.runnerDiff(runner.id), ApiError);
      assertEquals(refused.httpStatus, 409);
      assertStringIncludes(refused.message, "is on other-box");
      assertEquals(await ca.pruneWorktrees(), { removed: [], kept: [], elsewhere: [runner.id] });
    } finally {
      await a.stop();
      await b.stop();
      await removeDir(repo);
      await removeDir(custom);
      await pg.drop();
    }
  },
});
