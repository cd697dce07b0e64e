import { assert, assertEquals } from "../helpers/assert.ts";
import { parseKeys } from "../../cli/tui/terminal.ts";
import { renderScreen, type WatchState } from "../../cli/render/watch_screen.ts";
import type { Runner } from "../../lib/schemas/runner.ts";

Deno.test("watch: raw input bytes become keys (arrows, enter, ctrl-c, letters, stray sequences)", () => {
  const keys = parseKeys(new TextEncoder().encode("\x1b[A\x1b[Bj\r\x03\x1b[1;5Cq\x1b"));
  assertEquals(keys, ["up", "down", { char: "j" }, "enter", "ctrl-c", { char: "q" }, "escape"]);
});

const NOW = Date.parse("2026-11-25T12:00:00Z");

function runner(id: number, over: Partial<Runner> = {}): Runner {
  return {
    id,
    project: "api",
    projectId: 1,
    state: "running",
    activity: null,
    activityDetail: null,
    activityAt: null,
    mode: "interactive",
    command: "claude",
    args: [],
    cwd: "/src/api",
    labels: {},
    prompt: null,
    host: "box",
    pid: 100 + id,
    exitCode: null,
    exitSignal: null,
    reason: null,
    stopRequested: false,
    sessionId: null,
    createdAt: "2026-11-25T11:00:00Z",
    startedAt: "2026-11-25T11:00:00Z",
    endedAt: null,
    lastHeartbeatAt: "2026-11-25T11:59:50Z",
    heartbeatCount: 10,
    logPath: null,
    cpuPercent: 2.5,
    rssBytes: 200 * 1048576,
    tokens: { input: 1000, output: 2000, cacheCreation: 0, cacheRead: 0 },
    cost: { usd: 0.0123, reportedUsd: 0.0123, unpricedTokens: 0, source: "claude-code" },
    telemetry: "stratavore",
    telemetryEndpoint: null,
    worktree: null,
    ...over,
  };
}

function state(): WatchState {
  return {
    url: "http://127.0.0.1:7890",
    stream: "live",
    projects: [],
    runners: new Map([[1, runner(1, { activity: "waiting_for_input" })], [
      2,
      runner(2, { lastHeartbeatAt: "2026-11-25T11:59:30Z" }),
    ]]),
    budgets: [],
    events: [],
    selected: 2,
    view: "list",
    ttlMs: 30_000,
  };
}

Deno.test("watch: the screen groups runners by project, marks the selection and fits the terminal", () => {
  const lines = renderScreen(state(), { columns: 100, rows: 20 }, false, NOW);
  assertEquals(lines.length, 20);
  assert(lines[0].includes("2 running · 1 waiting for input · events live"), lines[0]);
  assert(lines[0].endsWith("12:00:00"));
  const r1 = lines.find((l) => /^\s+1\s/.test(l.slice(2)))!;
  const r2 = lines.find((l) => l.includes("▶"))!;
  assert(r1.includes("running (waiting for input)"), r1);
  assert(r2.includes("2") && r2.includes("30s ago"), r2);
  assert(lines.some((l) => l.trim() === "api"));
  assertEquals(lines.at(-1)!.trim(), "↑/↓ j/k select · enter details · s stop · x kill · q quit");
  const narrow = renderScreen(state(), { columns: 40, rows: 10 }, false, NOW);
  assert(narrow.every((l) => [...l].length <= 40), narrow.join("\n"));
});

Deno.test("watch: the heartbeat age turns red near the TTL (colours on)", () => {
  const lines = renderScreen(state(), { columns: 120, rows: 20 }, true, NOW).join("\n");
  assert(lines.includes("\x1b[31m30s ago"), "30 s of a 30 s TTL is red");
  assert(lines.includes("10s ago"), "10 s is plain");
});

Deno.test("watch: a runner's worktree in its line and in its details", () => {
  const s = state();
  s.runners.set(
    2,
    runner(2, {
      worktree: {
        state: "active",
        name: "fix",
        branch: "stratavore/api/fix",
        base: "main",
        baseSha: "0123456789abcdef0123456789abcdef01234567",
        path: "/w/api/fix",
        repo: "/src/api",
        host: "box",
        status: {
          ahead: 2,
          behind: 0,
          dirty: true,
          files: 3,
          insertions: 40,
          deletions: 7,
          changed: [],
          at: "2026-11-25T11:59:58Z",
        },
        note: null,
      },
    }),
  );
  const list = renderScreen(s, { columns: 140, rows: 20 }, false, NOW);
  assert(list.some((l) => l.includes("▶") && l.includes("fix ↑2 3f +40 −7 *")), list.join("\n"));
  const details = renderScreen({ ...s, view: "details" }, { columns: 140, rows: 30 }, false, NOW).join("\n");
  assert(details.includes("stratavore/api/fix"), details);
  assert(details.includes("main at 0123456789ab"), details);
  assert(details.includes("2 commit(s) ahead; 3 file(s) changed, +40 −7; uncommitted changes"), details);
});
