/**
 * What the daemon hands a detached agent (lib/detached_agent.ts): read back as written, and a bad one, from a
 * mismatched daemon or a hand-made call, stops the agent with one line naming what is wrong, never a stack.
 */
import { assert, assertEquals, assertThrows } from "../helpers/assert.ts";
import { runStratavore } from "../helpers/cli.ts";
import { AppError } from "../../lib/errors.ts";
import {
  AGENT_SETTING_KEYS,
  detachedAgentArgs,
  type DetachedAgentSpec,
  parseDetachedAgentSpec,
} from "../../lib/detached_agent.ts";
import { detachedAgentCommand } from "../../lib/self.ts";
import type { WorktreeInfo } from "../../lib/schemas/worktree.ts";

const SPEC: DetachedAgentSpec = {
  url: "http://127.0.0.1:7777",
  runner: { id: 12, project: "api", cwd: "/work/api", worktree: null },
  mode: "headless",
  log: "/home/u/.stratavore/logs/12.jsonl",
  settings: {
    home: "/home/u/.stratavore",
    heartbeatInterval: 10_000,
    scrollback: 1 << 20,
    sessionEnv: "GITHUB_TOKEN,NPM_*",
    claudeTelemetry: true,
    telemetryInterval: 5000,
    worktrees: undefined,
  },
};

Deno.test("detached agent: the spec and the command line read back as the daemon wrote them", () => {
  const command = ["claude", "-p", "hello -- world", "--output-format", "stream-json"];
  const [spec, sep, ...rest] = detachedAgentArgs(SPEC, command);
  assertEquals([sep, rest], ["--", command]);
  const back = parseDetachedAgentSpec(spec);
  assertEquals(back.runner, SPEC.runner);
  assertEquals([back.url, back.mode, back.log], [SPEC.url, SPEC.mode, SPEC.log]);
  for (const k of AGENT_SETTING_KEYS) assertEquals(back.settings[k], SPEC.settings[k], k);
  // The daemon passes its whole config; only the agent's settings reach the command line (never a secret).
  const whole = {
    ...SPEC.settings,
    token: "admin-token-0123456789",
    databaseUrl: "postgres://u:secret@h/db",
  };
  const [shown] = detachedAgentArgs({ ...SPEC, settings: whole }, command);
  assertEquals(
    Object.keys(JSON.parse(shown).settings).sort(),
    AGENT_SETTING_KEYS.filter((k) => whole[k] !== undefined).sort(),
  );
  assert(!shown.includes("secret") && !shown.includes("admin-token"), shown);
  const planned: WorktreeInfo = {
    state: "planned",
    name: null,
    branch: "stratavore/api/12",
    base: null,
    baseSha: null,
    path: null,
    repo: null,
    host: null,
    status: null,
  };
  const withWorktree = {
    ...SPEC,
    runner: { ...SPEC.runner, worktree: planned },
  } as unknown as DetachedAgentSpec;
  assertEquals(
    parseDetachedAgentSpec(detachedAgentArgs(withWorktree, ["claude"])[0]).runner.worktree,
    planned,
  );
});

Deno.test("detached agent: a bad spec names what is wrong", () => {
  const cases: [unknown, string][] = [
    ["{", "is not JSON"],
    [[], "is not a JSON object"],
    [{ ...SPEC, url: "ftp://x" }, "no daemon url"],
    [{ ...SPEC, mode: "interactive" }, 'mode "interactive"'],
    [{ ...SPEC, log: "" }, "no log file"],
    [{ ...SPEC, runner: { ...SPEC.runner, id: -1 } }, "runner id"],
    [{ ...SPEC, runner: { ...SPEC.runner, worktree: { branch: "b" } } }, "worktree"],
    [{ ...SPEC, settings: { ...SPEC.settings, heartbeatInterval: 0 } }, "settings.heartbeatInterval"],
    [{ ...SPEC, settings: { ...SPEC.settings, claudeTelemetry: "yes" } }, "settings.claudeTelemetry"],
    [{ ...SPEC, settings: { ...SPEC.settings, sessionEnv: 3 } }, "settings.sessionEnv"],
    [{ ...SPEC, settings: { ...SPEC.settings, home: "" } }, "settings.home"],
  ];
  for (const [spec, want] of cases) {
    const text = typeof spec === "string" ? spec : JSON.stringify(spec);
    const e = assertThrows(() => parseDetachedAgentSpec(text), AppError);
    assert(e.message.includes(want), `${want} in: ${e.message}`);
    assertEquals(e.code, "usage");
  }
});

Deno.test("detached agent: started by hand with a bad spec, it exits 2 with one line (both ways it runs)", async () => {
  // As the daemon starts it under deno run (its own module), and as a compiled binary does (the hidden
  // command of the real entrypoint).
  const [exe, ...pre] = detachedAgentCommand();
  const own = await new Deno.Command(exe, {
    args: [...pre, '{"url":"http://127.0.0.1:1"}', "--", "claude"],
    stdout: "piped",
    stderr: "piped",
  }).output();
  const viaMain = await runStratavore(["detached-agent", "not json", "--", "claude"]);
  for (
    const [code, stderr, want] of [
      [own.code, new TextDecoder().decode(own.stderr), "no mode (headless or pty)"],
      [viaMain.code, viaMain.stderr, "is not JSON"],
    ] as const
  ) {
    assertEquals(code, 2, stderr);
    assert(stderr.includes(want), stderr);
    assertEquals(stderr.trim().split("\n").length, 1, `one line: ${stderr}`);
    assert(!/\bat .*\.ts:\d+/.test(stderr), `no stack: ${stderr}`);
  }
});
