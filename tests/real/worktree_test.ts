/**
 * The real Claude Code in a worktree of its own: a detached headless run of a project in a git repository
 * runs in its worktree (its tool calls see that folder, its files land there and not in the project's),
 * its transcript is found there (tokens counted), its session is recorded there, and the worktree is kept
 * with the file it made, for `stratavore diff`.
 */
import { assert, assertEquals, assertMatch, eventually } from "../helpers/assert.ts";
import { runStratavore } from "../helpers/cli.ts";
import { sh } from "../helpers/git.ts";
import { exists } from "../../lib/worktree.ts";
import { prepareConfigDir } from "./claude_code.ts";
import { eachRealDaemon } from "./harness.ts";

eachRealDaemon("a detached run works in its own worktree, and what it made is kept for review", async (t) => {
  // The project's folder becomes a git repository with one commit.
  await Deno.writeTextFile(`${t.dir}/README.md`, "# app\n");
  await sh(t.dir, "init", "--quiet", "--initial-branch=main");
  await sh(t.dir, "add", "-A");
  await sh(t.dir, "commit", "--quiet", "-m", "first");
  const worktree = `${t.daemon.home}/worktrees/${t.project}/feat`;
  await prepareConfigDir(t.claudeDir, [t.dir, worktree]);

  const marker = `worktree-${crypto.randomUUID()}`;
  const done = `done-${crypto.randomUUID()}`;
  t.api.routes.set(marker, {
    toolUse: {
      name: "Bash",
      input: {
        command: `echo made-by-claude > made.txt && echo ${done} "$(pwd)"`,
        description: "Make a file",
      },
    },
    usage: { input: 1200, output: 40 },
  });
  t.api.routes.set(done, { text: "Made it.", usage: { input: 1500, output: 10 } });

  const launched = await runStratavore(
    [
      "--json",
      "launch",
      t.project,
      "--detach",
      "--worktree",
      "feat",
      "--prompt",
      `${marker} make a file`,
      "--",
      // Headless, the tool must be allowed up front (bypassPermissions is refused to root).
      "--allowedTools",
      "Bash",
    ],
    { env: t.env, cwd: t.dir },
  );
  assertEquals(launched.code, 0, launched.stderr);
  const id = JSON.parse(launched.stdout).id as number;
  const r = await eventually(
    async () => {
      const r = await t.client.getRunner(id);
      return (r.state === "stopped" || r.state === "failed") && r.worktree?.state !== "active"
        ? r
        : undefined;
    },
    90_000,
    "the run ended and its worktree was dealt with",
  );
  assertEquals(
    r.state,
    "stopped",
    `${r.reason}: ${await Deno.readTextFile(r.logPath!).catch(() => "")}`.slice(0, 3000),
  );
  assertEquals(r.cwd, worktree);
  assertEquals(r.worktree?.branch, `stratavore/${t.project}/feat`);
  // The tool ran in the worktree: its output (the follow-up request) names that folder.
  const followUp = t.api.requests.find((q) => q.toolResult && q.lastUserText.includes(done));
  assert(followUp, "Claude Code sent the tool's output back");
  assertMatch(followUp.lastUserText, new RegExp(`${done} ${worktree}`));
  assertEquals(await Deno.readTextFile(`${worktree}/made.txt`), "made-by-claude\n");
  assertEquals(exists(`${t.dir}/made.txt`), false);
  // Its transcript was found in the worktree's folder of Claude's projects: tokens counted, session there.
  assertEquals(r.tokens.input, 1200 + 1500);
  assertEquals((await t.client.getSession(r.sessionId!)).cwd, worktree);
  // Kept (it made a file), and the diff shows it.
  assertEquals(r.worktree?.state, "kept");
  assertEquals([r.worktree?.status?.dirty, r.worktree?.status?.files], [true, 1]);
  const stat = await runStratavore(["diff", String(id), "--stat"], { env: t.env, cwd: t.dir });
  assertEquals(stat.code, 0, stat.stderr);
  assertMatch(stat.stdout, /made\.txt\s+\| 1 \+/);
}, { only: "pglite" });
