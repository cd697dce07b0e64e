import { assertEquals, assertThrows } from "../../helpers/assert.ts";
import {
  HOOK_EVENTS,
  hookCommandLine,
  hookEventArg,
  hookSettings,
  parseHookInput,
  quoteArg,
} from "../../../lib/claude/hooks.ts";

Deno.test("claude hooks: event names become kebab-case arguments", () => {
  assertEquals(HOOK_EVENTS.map(hookEventArg), [
    "session-start",
    "session-end",
    "user-prompt-submit",
    "stop",
    "notification",
  ]);
});

Deno.test("claude hooks: the settings object registers one command per event", () => {
  const settings = hookSettings(["/usr/bin/deno", "run", "-A", "/x/main.ts", "hook"], "linux");
  assertEquals(Object.keys(settings.hooks).sort(), [
    "Notification",
    "SessionEnd",
    "SessionStart",
    "Stop",
    "UserPromptSubmit",
  ]);
  assertEquals(settings.hooks.SessionStart, [{
    matcher: "",
    hooks: [{ type: "command", command: "'/usr/bin/deno' 'run' '-A' '/x/main.ts' 'hook' 'session-start'" }],
  }]);
  assertEquals(
    settings.hooks.UserPromptSubmit[0].hooks[0].command,
    "'/usr/bin/deno' 'run' '-A' '/x/main.ts' 'hook' 'user-prompt-submit'",
  );
  // It is plain JSON: what `claude --settings <file>` reads.
  assertEquals(JSON.parse(JSON.stringify(settings)), settings);
  assertThrows(() => hookSettings([], "linux"), Error, "empty");
});

Deno.test("claude hooks: POSIX quoting survives spaces and single quotes", () => {
  assertEquals(quoteArg("/tmp/it's here/main.ts", "linux"), `'/tmp/it'\\''s here/main.ts'`);
  assertEquals(quoteArg('$HOME `x` "y"', "darwin"), `'$HOME \`x\` "y"'`);
});

Deno.test({
  name: "claude hooks: the POSIX command line gives the program its exact arguments through sh -c",
  ignore: Deno.build.os === "windows",
  async fn() {
    const tricky = ["/tmp/it's here/main.ts", "a b", "$HOME", "`id`", 'say "hi"', "", "back\\slash"];
    const line = hookCommandLine(["printf", "[%s]\\n", ...tricky], "Stop", "linux");
    const { stdout, success } = await new Deno.Command("sh", { args: ["-c", line], stdout: "piped" })
      .output();
    assertEquals(success, true);
    assertEquals(new TextDecoder().decode(stdout), [...tricky, "stop"].map((a) => `[${a}]\n`).join(""));
  },
});

Deno.test("claude hooks: Windows quoting uses double quotes with argv escaping", () => {
  const line = hookCommandLine(
    ["C:\\Program Files\\deno\\deno.exe", "run", "C:\\it's here\\main.ts", 'say "hi"', "C:\\dir\\"],
    "Notification",
    "windows",
  );
  assertEquals(
    line,
    `"C:\\Program Files\\deno\\deno.exe" "run" "C:\\it's here\\main.ts" "say \\"hi\\"" "C:\\dir\\\\" "notification"`,
  );
  assertEquals(quoteArg('a\\\\"b', "windows"), `"a\\\\\\\\\\"b"`, "backslashes before a quote are doubled");
});

Deno.test({
  name: "claude hooks: the Windows command line round-trips through argv parsing",
  ignore: Deno.build.os !== "windows",
  async fn() {
    const tricky = ["C:\\it's here\\x", "a b", 'say "hi"', "C:\\dir\\"];
    const line = hookCommandLine([
      Deno.execPath(),
      "eval",
      "console.log(JSON.stringify(Deno.args))",
      ...tricky,
    ], "Stop");
    const { stdout } = await new Deno.Command("cmd.exe", {
      args: ["/d", "/s", "/c", `"${line}"`],
      windowsRawArguments: true,
      stdout: "piped",
    }).output();
    assertEquals(JSON.parse(new TextDecoder().decode(stdout)), [...tricky, "stop"]);
  },
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
