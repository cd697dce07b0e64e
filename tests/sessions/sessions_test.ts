/** Sessions, resume, kept transcripts and usage reports through the real daemon, CLI and agent. */
import { assert, assertEquals, assertMatch } from "../helpers/assert.ts";
import { eachDaemon } from "../helpers/daemon.ts";
import { runStratavore } from "../helpers/cli.ts";
import { projectFolder, spawnAgent } from "../helpers/agent.ts";
import { REPO } from "../helpers/env.ts";
import { encodeProjectDir } from "../../lib/claude/paths.ts";

const TURN = (input: number, output: number) => ({
  blocks: 3,
  usage: {
    input_tokens: input,
    output_tokens: output,
    cache_creation_input_tokens: 0,
    cache_read_input_tokens: 0,
  },
});

eachDaemon(
  "usage: totals from fixture transcripts match ccusage-style parsing (per model, with cost)",
  async (t) => {
    const dir = await projectFolder(t.daemon.home, "fx");
    await t.client.createProject({ name: "fx", path: dir });
    const r = await spawnAgent(["agent", "--", "claude"], {
      env: t.env,
      cwd: dir,
      plan: { turns: [], replay: "basic", hooks: [] },
    })
      .done;
    assertEquals(r.code, 0, r.stderr);
    const expected = JSON.parse(
      await Deno.readTextFile(`${REPO}/tests/fixtures/transcripts/basic/expected.json`),
    );
    const report = JSON.parse(
      (await runStratavore(["--json", "usage", "--by", "model"], { env: t.env })).stdout,
    );
    const want = expected.totals.map((m: Record<string, number | string>) => ({
      key: m.model,
      input: m.input,
      output: m.output,
      cacheCreation: m.cacheCreation,
      cacheRead: m.cacheRead,
      total: Number(m.input) + Number(m.output) + Number(m.cacheCreation) + Number(m.cacheRead),
      costUsd: expected.costUsd[m.model as string],
      // The fake claude exports no telemetry: its costs are the price table's estimates.
      cost: {
        usd: expected.costUsd[m.model as string],
        reportedUsd: 0,
        unpricedTokens: 0,
        source: "estimated",
      },
    }));
    assertEquals(report.rows, want);
    assertEquals(report.total.total, 142 + 350 + 2034 + 27990);
    const text = await runStratavore(["usage", "--by", "model", "--since", "1d"], {
      env: { ...t.env, COLUMNS: "120" },
    });
    assertMatch(text.stdout, /claude-sonnet-4-5-20250929\s+22\s+270\s+1\.5k\s+27\.0k\s+28\.8k\s+~\$0\.02/);
    assertMatch(text.stdout, /total\s+142\s+350\s+2\.0k\s+28\.0k\s+30\.5k\s+~\$0\.02/);
    assertMatch(text.stdout, /partly estimated from the price table/);
    const byProject = JSON.parse(
      (await runStratavore(["--json", "usage", "--by", "project"], { env: t.env })).stdout,
    );
    assertEquals(byProject.rows.map((x: { key: string }) => x.key), ["fx"]);
    const bad = await runStratavore(["usage", "--since", "last tuesday"], { env: t.env });
    assertEquals(bad.code, 2);
  },
  { inProcess: true, subprocesses: true },
);

eachDaemon(
  "sessions: resume continues a session in its folder; tokens add up; the transcript is kept",
  async (t) => {
    const dir = await projectFolder(t.daemon.home, "res");
    await t.client.createProject({ name: "res", path: dir });
    const first = await spawnAgent(["agent", "--", "claude"], {
      env: t.env,
      cwd: dir,
      plan: { turns: [TURN(100, 10)], hooks: [] },
    }).done;
    assertEquals(first.code, 0, first.stderr);
    const [s1] = await t.client.listSessions({ project: "res" });
    assertEquals([s1.tokens.input, s1.tokens.output, s1.runners, s1.resumable], [100, 10, 1, true]);
    assert(s1.transcript !== null && s1.transcript.lines > 0, "kept when the runner ended");
    const stored = `${t.daemon.home}/transcripts/res/${s1.id}.jsonl.gz`;
    assert((await Deno.stat(stored)).size === s1.transcript!.storedBytes);

    // resume: the fake claude appends to the same transcript; only the new turn is counted for the new runner.
    const resumed = await runStratavore(["resume", s1.id], {
      env: { ...t.env, FAKE_CLAUDE_PLAN: JSON.stringify({ turns: [TURN(5, 7)], hooks: [] }) },
      cwd: "/",
    });
    assertEquals(resumed.code, 0, resumed.stderr);
    const runners = await t.client.listRunners({ project: "res", all: true });
    assertEquals(runners.length, 2);
    // The exact command line, with the agent's --settings for its hooks in front.
    const at = runners[0].args.indexOf("--resume");
    assertEquals(
      runners[0].args.slice(at, at + 2),
      ["--resume", s1.id],
      "the resumed runner got --resume <id>",
    );
    assertEquals(runners[0].cwd, dir);
    assertEquals(runners[0].sessionId, s1.id);
    const s2 = await t.client.getSession(s1.id);
    assertEquals([s2.tokens.input, s2.tokens.output, s2.runners], [105, 17, 2]);

    // export: the stored transcript is the session's transcript, byte for byte.
    const source = `${t.claudeDir}/projects/${encodeProjectDir(dir)}/${s1.id}.jsonl`;
    const out = `${t.daemon.home}/export.jsonl`;
    const exp = await runStratavore(["session", "export", s1.id, "-o", out], { env: t.env });
    assertEquals(exp.code, 0, exp.stderr);
    assertEquals(await Deno.readTextFile(out), await Deno.readTextFile(source));
    const show = await runStratavore(["session", "show", s1.id], { env: t.env });
    assertMatch(show.stdout, /resumable:\s+yes: stratavore resume/);
    const list = await runStratavore(["sessions"], { env: { ...t.env, COLUMNS: "140" } });
    assertMatch(list.stdout, new RegExp(`${s1.id}\\s+res\\s+\\d+\\s+122\\s+~\\$0\\.\\d\\d\\s+.+?\\s+yes`));
  },
  { inProcess: true, subprocesses: true },
);

eachDaemon("sessions: resume refuses when the session's folder is gone", async (t) => {
  const dir = await projectFolder(t.daemon.home, "gone");
  await t.client.createProject({ name: "gone", path: dir });
  await spawnAgent(["agent", "--", "claude"], {
    env: t.env,
    cwd: dir,
    plan: { turns: [TURN(1, 1)], hooks: [] },
  }).done;
  const [s] = await t.client.listSessions({ project: "gone" });
  await Deno.remove(dir, { recursive: true });
  const r = await runStratavore(["resume", s.id], { env: t.env });
  assertEquals(r.code, 1);
  assertMatch(r.stderr, new RegExp(`session ${s.id} ran in ${dir}, which does not exist on this machine`));
  assertEquals((await t.client.listRunners({ project: "gone", all: true })).length, 1, "nothing launched");
  const unknown = await runStratavore(["session", "show", "nope"], { env: t.env });
  assertEquals(unknown.code, 1);
  assertMatch(unknown.stderr, /no session nope/);
}, { inProcess: true, subprocesses: true, only: "pglite" });
