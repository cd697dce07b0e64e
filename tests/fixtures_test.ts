/** The fake `claude` (tests/fixtures/fake_claude.ts) behaves like the real CLI where Stratavore cares. */
import { assert, assertEquals, assertMatch, assertStringIncludes, eventually } from "./helpers/assert.ts";
import { baseEnv } from "./helpers/cli.ts";
import { REPO } from "./helpers/env.ts";
import { removeDir, tempDir } from "./helpers/fs.ts";
import { TranscriptFollower } from "../lib/claude/follow.ts";
import { runnerHookSettings } from "../lib/claude/hooks.ts";
import { parseHookInput } from "../lib/schemas/hook_input.ts";
import { subagentPathsOf, transcriptPaths } from "../lib/claude/paths.ts";
import { UsageAccumulator } from "../lib/claude/transcript.ts";
import type { PlanInput } from "./fixtures/fake_claude_plan.ts";

const FAKE = `${REPO}/tests/fixtures/fake_claude.ts`;
const BIN = `${REPO}/tests/fixtures/bin`;
const POSIX = Deno.build.os !== "windows";

interface Sandbox {
  root: string;
  /** The project folder the fake runs in (OS-resolved, as Claude Code sees it). */
  cwd: string;
  config: string;
  transcript(sessionId: string): string;
  command(
    args: string[],
    opts?: { plan?: PlanInput; stdin?: boolean; env?: Record<string, string> },
  ): Deno.Command;
  run(
    args: string[],
    opts?: { plan?: PlanInput; stdin?: string; env?: Record<string, string> },
  ): Promise<{ code: number; stdout: string; stderr: string }>;
}

async function withSandbox(fn: (s: Sandbox) => Promise<void>): Promise<void> {
  const root = await Deno.realPath(await tempDir("stratavore-fake-claude-"));
  const cwd = `${root}/my.project`;
  const config = `${root}/claude-config`;
  await Deno.mkdir(cwd);
  const command: Sandbox["command"] = (args, opts = {}) =>
    new Deno.Command(Deno.execPath(), {
      args: ["run", "--allow-all", "--quiet", "--config", `${REPO}/deno.json`, FAKE, ...args],
      cwd,
      clearEnv: true,
      env: baseEnv({
        CLAUDE_CONFIG_DIR: config,
        ...(opts.plan ? { FAKE_CLAUDE_PLAN: JSON.stringify(opts.plan) } : {}),
        ...opts.env,
      }),
      stdin: opts.stdin ? "piped" : "null",
      stdout: "piped",
      stderr: "piped",
    });
  const sandbox: Sandbox = {
    root,
    cwd,
    config,
    transcript: (id) => transcriptPaths([config], cwd, id)[0],
    command,
    async run(args, opts = {}) {
      const child = command(args, { ...opts, stdin: opts.stdin !== undefined }).spawn();
      if (opts.stdin !== undefined) {
        const w = child.stdin.getWriter();
        await w.write(new TextEncoder().encode(opts.stdin));
        await w.close();
      }
      const timer = setTimeout(() => child.kill("SIGKILL"), 30_000);
      const out = await child.output();
      clearTimeout(timer);
      const dec = new TextDecoder();
      return { code: out.code, stdout: dec.decode(out.stdout), stderr: dec.decode(out.stderr) };
    },
  };
  try {
    await fn(sandbox);
  } finally {
    await removeDir(root);
  }
}

/** Feeds a session's transcript and its subagent files into one accumulator. */
async function accumulate(transcript: string): Promise<UsageAccumulator> {
  const acc = new UsageAccumulator();
  for (const file of [transcript, ...await subagentPathsOf(transcript)]) {
    const follower = new TranscriptFollower(file);
    for (const line of [...await follower.poll(), ...follower.flush()]) acc.add(line);
  }
  return acc;
}

const SID = "0b6f3c2e-9a41-4d7e-8c5b-2e1f0a9d8c7b";

/** Two turns (the second without requestId), a subagent and an API error. Totals worked out by hand below. */
const PLAN: PlanInput = {
  turns: [
    {
      model: "claude-sonnet-4-5-20250929",
      blocks: 3,
      usage: {
        input_tokens: 10,
        output_tokens: 20,
        cache_creation_input_tokens: 30,
        cache_read_input_tokens: 40,
      },
    },
    {
      model: "claude-opus-4-5-20251101",
      blocks: 2,
      noRequestId: true,
      usage: {
        input_tokens: 1,
        output_tokens: 2,
        cache_creation_input_tokens: 0,
        cache_read_input_tokens: 5,
        cache_creation: { ephemeral_5m_input_tokens: 0, ephemeral_1h_input_tokens: 0 },
      },
    },
  ],
  sidechain: {
    model: "claude-haiku-4-5-20251001",
    blocks: 2,
    usage: {
      input_tokens: 100,
      output_tokens: 200,
      cache_creation_input_tokens: 300,
      cache_read_input_tokens: 400,
      cache_creation: { ephemeral_5m_input_tokens: 250, ephemeral_1h_input_tokens: 50 },
    },
  },
  apiError: true,
  hooks: [],
};

Deno.test("fake claude: refuses to run without CLAUDE_CONFIG_DIR", async () => {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", "--allow-all", "--quiet", "--config", `${REPO}/deno.json`, FAKE, "-p", "hi"],
    clearEnv: true,
    env: baseEnv(),
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).output();
  assertEquals(out.code, 2);
  assertStringIncludes(new TextDecoder().decode(out.stderr), "CLAUDE_CONFIG_DIR");
});

Deno.test("fake claude: writes the transcript where Claude Code would, totals matching its plan", async () => {
  await withSandbox(async (s) => {
    const r = await s.run(["--session-id", SID, "--verbose", "--permission-mode", "acceptEdits"], {
      plan: PLAN,
    });
    assertEquals(r.code, 0, r.stderr);
    const path = s.transcript(SID);
    assertEquals(path, `${s.config}/projects/${s.cwd.replace(/[^a-zA-Z0-9]/g, "-")}/${SID}.jsonl`);
    const subagents = await subagentPathsOf(path);
    assertEquals(subagents.length, 1);
    assertMatch(subagents[0], /[\\/]subagents[\\/]agent-[0-9a-f]{8}\.jsonl$/);

    const acc = await accumulate(path);
    const t = (model: string) => acc.totals().find((x) => x.model === model);
    // Sonnet: one message despite 3 lines. Opus: 2 lines without requestId, each counted.
    assertEquals(t("claude-sonnet-4-5-20250929"), {
      sessionId: SID,
      model: "claude-sonnet-4-5-20250929",
      input: 10,
      output: 20,
      cacheCreation: 30,
      cacheCreation1h: 0,
      cacheRead: 40,
      messages: 1,
      firstTimestamp: t("claude-sonnet-4-5-20250929")?.firstTimestamp,
      lastTimestamp: t("claude-sonnet-4-5-20250929")?.lastTimestamp,
    });
    const opus = t("claude-opus-4-5-20251101")!;
    assertEquals([opus.input, opus.output, opus.cacheCreation, opus.cacheRead, opus.messages], [
      2,
      4,
      0,
      10,
      2,
    ]);
    const haiku = t("claude-haiku-4-5-20251001")!;
    assertEquals(
      [
        haiku.input,
        haiku.output,
        haiku.cacheCreation,
        haiku.cacheCreation1h,
        haiku.cacheRead,
        haiku.messages,
      ],
      [100, 200, 300, 50, 400, 1],
    );
    assertEquals(acc.totals().length, 3, "the <synthetic> API error is not a model of its own");
    const o = acc.overall();
    assertEquals([o.userMessages, o.assistantMessages, o.duplicates, o.skipped, o.malformed], [
      3,
      4,
      3,
      1,
      0,
    ]);

    const lines = (await Deno.readTextFile(path)).trim().split("\n").map((l) => JSON.parse(l));
    assertEquals(
      lines.map((l) => l.type).join(","),
      "user,assistant,assistant,assistant,user,assistant,assistant,assistant",
    );
    assert(lines.every((l) => l.sessionId === SID && l.cwd === s.cwd && l.isSidechain === false));
    assertEquals(lines[7].isApiErrorMessage, true);
    assertEquals(lines[7].message.model, "<synthetic>");
    const side = (await Deno.readTextFile(subagents[0])).trim().split("\n").map((l) => JSON.parse(l));
    assert(side.every((l) => l.isSidechain === true && l.sessionId === SID && typeof l.agentId === "string"));
  });
});

Deno.test("fake claude: -p --output-format stream-json prints init, one assistant event per turn, then the result", async () => {
  await withSandbox(async (s) => {
    const r = await s.run(["-p", "Refactor the parser", "--output-format", "stream-json", "--verbose"], {
      plan: PLAN,
    });
    assertEquals(r.code, 0, r.stderr);
    const events = r.stdout.trim().split("\n").map((l) => JSON.parse(l));
    assertEquals(events.map((e) => e.type), ["system", "assistant", "assistant", "result"]);
    const [init, a1, a2, result] = events;
    assertEquals([init.subtype, init.model, init.cwd, init.tools], [
      "init",
      "claude-sonnet-4-5-20250929",
      s.cwd,
      [],
    ]);
    const sid = init.session_id;
    assertMatch(sid, /^[0-9a-f-]{36}$/);
    assert(events.every((e) => e.session_id === sid));

    const lines = (await Deno.readTextFile(s.transcript(sid))).trim().split("\n").map((l) => JSON.parse(l));
    assertEquals(lines[0].message.content, "Refactor the parser", "the prompt is the first user message");
    assertEquals(a1.message.id, lines[1].message.id);
    assertEquals(a1.message.usage, lines[1].message.usage);
    assertEquals(a1.message.content.length, 3, "all content blocks of the turn");
    assertEquals(a2.message.model, "claude-opus-4-5-20251101");

    assertEquals(result.subtype, "success");
    assertEquals(result.is_error, false);
    assertEquals(result.num_turns, 2);
    assertEquals(typeof result.duration_ms, "number");
    assertEquals(typeof result.result, "string");
    // Real API usage: one call per turn plus the subagent's, the API error excluded.
    assertEquals(result.usage, {
      input_tokens: 111,
      output_tokens: 222,
      cache_creation_input_tokens: 330,
      cache_read_input_tokens: 445,
    });
    // Sonnet 454.5 µ$ + Opus 4.5 57.5 µ$ + Haiku 4.5 (100 + 1000 + 312.5 + 100 + 40) µ$ = 2064.5 µ$
    assert(Math.abs(result.total_cost_usd - 0.0020645) < 1e-12, `cost ${result.total_cost_usd}`);
  });
});

Deno.test("fake claude: the prompt can come from stdin; stream-json without --verbose is refused", async () => {
  await withSandbox(async (s) => {
    const r = await s.run(["-p", "--output-format", "json"], {
      stdin: "from stdin\n",
      plan: { turns: [{}] },
    });
    assertEquals(r.code, 0, r.stderr);
    const result = JSON.parse(r.stdout);
    assertEquals([result.type, result.num_turns], ["result", 1]);
    const first = JSON.parse((await Deno.readTextFile(s.transcript(result.session_id))).split("\n")[0]);
    assertEquals(first.message.content, "from stdin");

    const bad = await s.run(["-p", "x", "--output-format", "stream-json"]);
    assertEquals(bad.code, 1);
    assertStringIncludes(bad.stderr, "requires --verbose");
    const id = crypto.randomUUID();
    const noPrompt = await s.run(["--session-id", id, "-p"]);
    assertEquals(noPrompt.code, 1);
    assertStringIncludes(noPrompt.stderr, "Input must be provided");
    const created = await Deno.stat(s.transcript(id)).then(() => true, () => false);
    assert(!created, "a run that fails its arguments leaves no transcript");
  });
});

Deno.test("fake claude: a non-zero exitCode ends with that code and an error result", async () => {
  await withSandbox(async (s) => {
    const r = await s.run(["-p", "x", "--output-format", "stream-json", "--verbose"], {
      plan: { turns: [{}], exitCode: 7 },
    });
    assertEquals(r.code, 7);
    const result = JSON.parse(r.stdout.trim().split("\n").at(-1)!);
    assertEquals([result.type, result.subtype, result.is_error], ["result", "error_during_execution", true]);
  });
});

Deno.test({
  name:
    "fake claude: fires the hooks of a --settings file as Claude Code does (http posts, SessionStart to its file)",
  ignore: !POSIX,
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    await withSandbox(async (s) => {
      const posted: { auth: string | null; input: Record<string, unknown> }[] = [];
      const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen: () => {} }, async (req) => {
        posted.push({ auth: req.headers.get("authorization"), input: await req.json() });
        return Response.json({});
      });
      const events = `${s.root}/events it's.jsonl`;
      try {
        await Deno.writeTextFile(
          `${s.root}/settings.json`,
          JSON.stringify(runnerHookSettings({
            url: `http://127.0.0.1:${server.addr.port}`,
            runnerId: 7,
            token: "svr_test",
            eventsFile: events,
            permissionTimeoutS: 30,
          })),
        );
        const hooks = [
          "SessionStart",
          "UserPromptSubmit",
          "Stop",
          "Notification:idle_prompt",
          "Notification:permission_prompt",
          "SessionEnd",
        ];
        const r = await s.run(["--session-id", SID, "--settings", `${s.root}/settings.json`, "-p", "go"], {
          plan: { turns: [{}, {}], hooks },
        });
        assertEquals(r.code, 0, r.stderr);
        assertEquals(posted.map((p) => p.input.hook_event_name), [
          "UserPromptSubmit",
          "Stop",
          "UserPromptSubmit",
          "Stop",
          "Notification",
          "Notification",
          "SessionEnd",
        ]);
        assert(posted.every((p) => p.auth === "Bearer svr_test"), "the runner's token on every post");
        for (const { input } of posted) {
          assertEquals([input.session_id, input.transcript_path, input.cwd], [SID, s.transcript(SID), s.cwd]);
        }
        assertEquals(posted[0].input.prompt, "go");
        assertEquals(posted.slice(4, 6).map((p) => p.input.notification_type), [
          "idle_prompt",
          "permission_prompt",
        ]);
        assertEquals(posted[4].input.message, "Claude is waiting for your input");
        assertEquals(posted[6].input.reason, "other");
        // SessionStart cannot be an http hook: its command appended it to the agent's file.
        const [start] = (await Deno.readTextFile(events)).trim().split("\n").map(parseHookInput);
        assertEquals([start.hook_event_name, start.source, start.session_id], [
          "SessionStart",
          "startup",
          SID,
        ]);

        // Resuming appends to the same transcript and says so in SessionStart.
        await Deno.remove(events);
        const again = await s.run(["--resume", SID, "--settings", `${s.root}/settings.json`, "-p", "more"], {
          plan: { turns: [{}], hooks: ["SessionStart"] },
        });
        assertEquals(again.code, 0, again.stderr);
        const resumed = parseHookInput((await Deno.readTextFile(events)).trim());
        assertEquals(resumed.source, "resume");
        const acc = await accumulate(s.transcript(SID));
        assertEquals(acc.overall().userMessages, 3, "two turns, then one more in the resumed run");
      } finally {
        await server.shutdown();
      }
    });
  },
});

Deno.test("fake claude: session ids are checked like the real CLI does", async () => {
  await withSandbox(async (s) => {
    const missing = await s.run(["--resume", SID, "-p", "x"]);
    assertEquals(missing.code, 1);
    assertStringIncludes(missing.stderr, "No conversation found");
    const bad = await s.run(["--session-id", "not-a-uuid", "-p", "x"]);
    assertEquals(bad.code, 1);
    assertStringIncludes(bad.stderr, "Invalid session ID");
    assertEquals((await s.run(["--session-id", SID, "-p", "x"])).code, 0);
    const reused = await s.run(["--session-id", SID, "-p", "x"]);
    assertEquals(reused.code, 1);
    assertStringIncludes(reused.stderr, "already in use");
  });
});

Deno.test({
  name: "fake claude: stop signals end it with 128 + the signal number",
  ignore: !POSIX,
  async fn() {
    await withSandbox(async (s) => {
      for (const [signal, code] of [["SIGTERM", 143], ["SIGINT", 130], ["SIGHUP", 129]] as const) {
        const id = crypto.randomUUID();
        const child = s.command(["--session-id", id], { plan: { turns: [{}], sleepMs: 30_000 } }).spawn();
        const follower = new TranscriptFollower(s.transcript(id));
        const seen: string[] = [];
        // Wait until the turn is written: the fake is now sleeping with its signal listeners in place.
        await eventually(
          async () => (seen.push(...await follower.poll()), seen.length >= 3),
          15_000,
          "the turn",
        );
        child.kill(signal);
        const out = await child.output();
        assertEquals(out.code, code, `${signal}: ${new TextDecoder().decode(out.stderr)}`);
      }
    });
  },
});

Deno.test("fake claude: a follower sees the transcript grow while the session runs", async () => {
  await withSandbox(async (s) => {
    const child = s.command(["--session-id", SID], { plan: { turns: [{}, {}, {}], turnDelayMs: 700 } })
      .spawn();
    const follower = new TranscriptFollower(s.transcript(SID));
    const seen: string[] = [];
    let exited = false;
    const done = child.output().then((out) => (exited = true, out));
    await eventually(
      async () => (seen.push(...await follower.poll()), seen.length > 0),
      15_000,
      "first lines",
    );
    assert(!exited && seen.length < 9, `saw ${seen.length} lines before the end`);
    assertEquals((await done).code, 0);
    seen.push(...await follower.poll());
    assertEquals(seen.length, 9, "3 turns × (1 user + 2 assistant lines)");
  });
});

Deno.test("fake claude: interactive line mode echoes lines, counts turns and exits with /exit <code>", async () => {
  await withSandbox(async (s) => {
    const r = await s.run(["--session-id", SID], {
      plan: { interactive: true, turns: [{ blocks: 1 }] },
      stdin: "hello there\n\nsecond\n/exit 3\nnever read\n",
    });
    assertEquals(r.code, 3, r.stderr);
    assertEquals(r.stdout, "> you said: hello there\n> > you said: second\n> ");
    const acc = await accumulate(s.transcript(SID));
    assertEquals([acc.overall().userMessages, acc.overall().assistantMessages], [2, 2]);
    const eof = await s.run(["--session-id", crypto.randomUUID()], {
      plan: { interactive: true, exitCode: 4 },
      stdin: "",
    });
    assertEquals([eof.code, eof.stdout], [4, "> "], "end of input: the plan's exit code");
  });
});

Deno.test({
  name: "fake claude: interactive mode reports the terminal size on SIGWINCH",
  ignore: !POSIX,
  async fn() {
    await withSandbox(async (s) => {
      const child = s.command(["--session-id", SID], { plan: { interactive: true }, stdin: true }).spawn();
      const reader = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
      let seen = "";
      const read = async (re: RegExp) => {
        while (!re.test(seen)) {
          const { value, done } = await reader.read();
          if (done) throw new Error(`stdout ended before ${re}: ${JSON.stringify(seen)}`);
          seen += value;
        }
      };
      await read(/^> /);
      child.kill("SIGWINCH");
      // Without a terminal there is no size to read; a pseudo-terminal gives "size: <cols>x<rows>".
      await read(/size: (\d+x\d+|unknown)\n/);
      const w = child.stdin.getWriter();
      await w.write(new TextEncoder().encode("/exit\n"));
      await w.close();
      await read(/$/);
      reader.releaseLock();
      await child.stdout.cancel().catch(() => {});
      const status = await child.status;
      await child.stderr.cancel().catch(() => {});
      assertEquals(status.code, 0);
    });
  },
});

Deno.test({
  name: "fake claude: tests/fixtures/bin/claude runs it from PATH",
  ignore: !POSIX,
  async fn() {
    await withSandbox(async (s) => {
      const out = await new Deno.Command("claude", {
        args: ["--version"],
        cwd: s.cwd,
        clearEnv: true,
        env: baseEnv({
          CLAUDE_CONFIG_DIR: s.config,
          PATH: `${BIN}:${Deno.env.get("PATH") ?? ""}`,
          FAKE_CLAUDE_DENO: Deno.execPath(),
        }),
        stdout: "piped",
        stderr: "piped",
      }).output();
      assertEquals(out.code, 0, new TextDecoder().decode(out.stderr));
      assertMatch(new TextDecoder().decode(out.stdout), /^\d+\.\d+\.\d+\S* \(Claude Code\)\n$/);
    });
  },
});
