import { assert, assertEquals, assertThrows } from "../../helpers/assert.ts";
import {
  HTTP_HOOK_EVENTS,
  observerHookSettings,
  permissionDecision,
  quotePosix,
  runnerHookSettings,
  sessionStartCommand,
} from "../../../lib/claude/hooks.ts";
import { parseHookInput } from "../../../lib/schemas/hook_input.ts";
import { activityFor, hookActivity } from "../../../daemon/store/activity.ts";
import { summarizeTool } from "../../../daemon/store/permissions.ts";

Deno.test("claude hooks: a runner's sessions post every event to its endpoint; SessionStart goes to a file", () => {
  const s = runnerHookSettings({
    url: "http://127.0.0.1:7890/",
    runnerId: 42,
    token: "svr_abc",
    eventsFile: "/home/ada/.stratavore/runs/42/hook-events.jsonl",
    permissionTimeoutS: 300,
  });
  assertEquals(Object.keys(s.hooks).sort(), [...HTTP_HOOK_EVENTS, "SessionStart"].sort());
  for (const event of HTTP_HOOK_EVENTS) {
    const [hook] = s.hooks[event][0].hooks;
    assert(hook.type === "http");
    assertEquals(hook.url, "http://127.0.0.1:7890/api/v1/runners/42/claude-hook");
    assertEquals(hook.headers, { Authorization: "Bearer svr_abc" });
    assertEquals(hook.timeout, event === "PermissionRequest" ? 305 : 5, event);
  }
  const [start] = s.hooks.SessionStart[0].hooks;
  assert(start.type === "command");
  assertEquals(start.command, "{ cat; echo; } >> '/home/ada/.stratavore/runs/42/hook-events.jsonl'");
});

Deno.test("claude hooks: the SessionStart command appends Claude Code's JSON as one line, whatever the path", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const file = `${dir}/it's a "file" $HOME.jsonl`;
    for (const n of [1, 2]) {
      const child = new Deno.Command("sh", { args: ["-c", sessionStartCommand(file)], stdin: "piped" })
        .spawn();
      const w = child.stdin.getWriter();
      await w.write(
        new TextEncoder().encode(JSON.stringify({ session_id: `s${n}`, hook_event_name: "SessionStart" })),
      );
      await w.close();
      assert((await child.status).success);
    }
    const lines = (await Deno.readTextFile(file)).trim().split("\n").map(parseHookInput);
    assertEquals(lines.map((l) => l.session_id), ["s1", "s2"]);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
  assertEquals(quotePosix("it's"), `'it'\\''s'`);
  assertEquals(
    sessionStartCommand("C:\\Users\\ada\\runs\\1\\e.jsonl"),
    "{ cat; echo; } >> 'C:/Users/ada/runs/1/e.jsonl'",
  );
});

Deno.test("claude hooks: machine-wide hooks carry the observer token and the runner id a launched session has", () => {
  const s = observerHookSettings({ url: "http://127.0.0.1:7890", token: "svo_x", permissionTimeoutS: 60 });
  assertEquals(Object.keys(s.hooks).sort(), [...HTTP_HOOK_EVENTS].sort(), "no SessionStart");
  const [hook] = s.hooks.Stop[0].hooks;
  assert(hook.type === "http");
  assertEquals(hook.url, "http://127.0.0.1:7890/api/v1/observed/claude-hook");
  assertEquals(hook.headers, {
    Authorization: "Bearer svo_x",
    "X-Stratavore-Runner": "$STRATAVORE_RUNNER_ID",
  });
  assertEquals(hook.allowedEnvVars, ["STRATAVORE_RUNNER_ID"]);
});

Deno.test("claude hooks: each event maps to an activity", () => {
  const a = (hook_event_name: string, extra: Record<string, unknown> = {}) =>
    activityFor({ session_id: "s", hook_event_name, ...extra });
  assertEquals(a("UserPromptSubmit"), { activity: "busy", detail: null });
  assertEquals(a("PreToolUse", { tool_name: "Bash" }), { activity: "busy", detail: "Bash" });
  assertEquals(a("PreToolUse", { tool_name: "AskUserQuestion" }), {
    activity: "waiting_for_input",
    detail: "question",
  });
  assertEquals(a("PermissionRequest", { tool_name: "Write" }), {
    activity: "waiting_for_input",
    detail: "permission: Write",
  });
  assertEquals(a("Notification", { notification_type: "idle_prompt" })?.activity, "waiting_for_input");
  assertEquals(a("Notification", { notification_type: "auth_success" }), undefined);
  assertEquals(a("Stop"), { activity: "idle", detail: "turn finished" });
  assertEquals(a("StopFailure", { error: { type: "rate_limit", message: "usage limit" } }), {
    activity: "error",
    detail: "rate_limit: usage limit",
  });
  assertEquals(a("PreCompact"), { activity: "compacting", detail: null });
  assertEquals(a("PostCompact", { trigger: "manual" }), { activity: "idle", detail: "compacted" });
  assertEquals(a("PostCompact", { trigger: "auto" }), { activity: "busy", detail: null }, "the turn goes on");
  assertEquals(a("SessionEnd", { reason: "prompt_input_exit" }), {
    activity: "ended",
    detail: "prompt_input_exit",
  });
  assertEquals(a("SessionEnd", { reason: "clear" }), undefined, "a new session follows at once");
  assertEquals(a("SessionStart", { source: "clear" }), { activity: "idle", detail: "clear" });
});

Deno.test("claude hooks: a SessionStart forwarded after later hooks of its session does not overwrite them", () => {
  const start = (session_id: string, source = "startup") => ({
    session_id,
    hook_event_name: "SessionStart",
    source,
  });
  const idle = { activity: "idle", detail: "startup" } as const;
  // The agent forwards SessionStart from a file: under load, after the turn's Stop and an idle Notification.
  assertEquals(hookActivity(start("s"), { sessionId: "s", activity: "waiting_for_input" }), undefined);
  assertEquals(hookActivity(start("s"), { sessionId: "s", activity: "busy" }), undefined);
  assertEquals(hookActivity(start("s"), { sessionId: null, activity: null }), idle, "first news of the run");
  assertEquals(hookActivity(start("s"), { sessionId: "s", activity: null }), idle);
  assertEquals(hookActivity(start("t", "clear"), { sessionId: "s", activity: "ended" }), {
    activity: "idle",
    detail: "clear",
  }, "a new session after /clear");
  // After a compaction PostCompact says what follows (idle after /compact, busy mid-turn); SessionStart
  // "compact" races it (either order, seen on Claude Code 2.1.328), so it changes nothing.
  assertEquals(hookActivity(start("s", "compact"), { sessionId: "s", activity: "compacting" }), undefined);
  assertEquals(hookActivity(start("s", "compact"), { sessionId: "s", activity: "idle" }), undefined);
  assertEquals(
    hookActivity({ session_id: "s", hook_event_name: "Stop" }, { sessionId: "s", activity: "busy" }),
    {
      activity: "idle",
      detail: "turn finished",
    },
  );
});

Deno.test("claude hooks: a permission request in one line; Claude Code's decision shape", () => {
  assertEquals(
    summarizeTool("Bash", { command: "rm -rf build\n&& make", description: "x" }),
    "Bash: rm -rf build && make",
  );
  assertEquals(summarizeTool("Write", { file_path: "/w/a.ts", content: "…" }), "Write: /w/a.ts");
  assertEquals(summarizeTool("Mystery", {}), "Mystery");
  assert(summarizeTool("Bash", { command: "x".repeat(1000) }).length <= 300);
  assertEquals(permissionDecision("allow"), {
    hookSpecificOutput: { hookEventName: "PermissionRequest", decision: { behavior: "allow" } },
  });
  assertEquals(permissionDecision("deny", "no").hookSpecificOutput, {
    hookEventName: "PermissionRequest",
    decision: { behavior: "deny", message: "no" },
  });
});

Deno.test("claude hooks: parseHookInput reads Claude Code's stdin JSON and keeps unknown fields", () => {
  const input = parseHookInput(JSON.stringify({
    session_id: "5f0c2a1e-8d3b-4c7a-9e61-0b2d4f6a8c13",
    transcript_path: "/home/ada/.claude/projects/-w/5f0c2a1e-8d3b-4c7a-9e61-0b2d4f6a8c13.jsonl",
    cwd: "/w",
    hook_event_name: "Notification",
    notification_type: "permission_prompt",
    message: "Claude needs your permission to use Bash",
    permission_mode: "default",
  }));
  assertEquals(input.hook_event_name, "Notification");
  assertEquals(input.notification_type, "permission_prompt");
  assertEquals(input.permission_mode, "default");
  const start = parseHookInput(
    '{"session_id":"s","transcript_path":"/t","cwd":"/w","hook_event_name":"SessionStart","source":"resume"}',
  );
  assertEquals([start.source, start.reason], ["resume", undefined]);
});

Deno.test("claude hooks: parseHookInput names what is wrong", () => {
  assertThrows(() => parseHookInput("not json"), Error, "not JSON");
  assertThrows(() => parseHookInput("[]"), Error, "invalid");
  assertThrows(
    () => parseHookInput('{"transcript_path":"/t","cwd":"/w","hook_event_name":"Stop"}'),
    Error,
    "session_id",
  );
  assertThrows(
    () =>
      parseHookInput(
        '{"session_id":"s","transcript_path":"/t","cwd":"/w","hook_event_name":"Stop","reason":3}',
      ),
    Error,
    "reason",
  );
});
