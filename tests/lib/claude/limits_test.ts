/** Claude Code's limit reports, parsed: the stream's rate_limit_event, the statusline's stdin, refusals. */
import { assertEquals } from "../../helpers/assert.ts";
import {
  configDirOfTranscript,
  fromRateLimitEvent,
  fromStatusline,
  isLimitError,
  isLimitRefusal,
  refusalInMessage,
  refusalInTranscript,
} from "../../../lib/claude/limits.ts";
import { autoContinueAtLimit, userStatusline } from "../../../lib/claude/settings.ts";
import { ownLine } from "../../../agent/statusline.ts";

Deno.test("limits: a rate_limit_event as 2.1.328 emits it", () => {
  const ev = {
    type: "rate_limit_event",
    rate_limit_info: {
      status: "allowed",
      resetsAt: 1796094477,
      rateLimitType: "five_hour",
      isUsingOverage: false,
      unifiedWindows: {
        five_hour: { utilization: 0.87, resetsAt: 1796094477, status: "allowed_warning" },
        seven_day: { utilization: 0.42, resetsAt: 1796350077, status: "allowed" },
      },
    },
    session_id: "s1",
  };
  assertEquals(fromRateLimitEvent(ev), {
    windows: {
      five_hour: { utilization: 0.87, resetsAt: 1796094477, status: "allowed_warning" },
      seven_day: { utilization: 0.42, resetsAt: 1796350077, status: "allowed" },
    },
    sessionId: "s1",
    status: "allowed",
    representative: "five_hour",
    resetsAt: 1796094477,
    usingOverage: false,
  });
  assertEquals(fromRateLimitEvent({ type: "result" }), undefined);
  assertEquals(fromRateLimitEvent({ type: "rate_limit_event", rate_limit_info: "x" }), undefined);
});

Deno.test("limits: the statusline's rate_limits are percents; none before the first answer", () => {
  const input = {
    session_id: "s2",
    rate_limits: {
      five_hour: { used_percentage: 87, resets_at: 1796094486 },
      seven_day: { used_percentage: 42 },
    },
  };
  assertEquals(fromStatusline(input), {
    windows: {
      five_hour: { utilization: 0.87, resetsAt: 1796094486 },
      seven_day: { utilization: 0.42, resetsAt: null },
    },
    sessionId: "s2",
  });
  assertEquals(fromStatusline({ session_id: "s2" }), undefined);
  assertEquals(fromStatusline({ rate_limits: { five_hour: { used_percentage: "x" } } }), undefined);
  const line = ownLine(
    { ...input, model: { display_name: "Sonnet 5.5" }, cost: { total_cost_usd: 0.5 } },
    (1796094486 - 3900) * 1000,
  );
  assertEquals(line, "Sonnet 5.5 · $0.50 · 5h 87% (resets in 1h5m) · 7d 42%");
});

Deno.test("limits: refusals for the usage limit are told from other errors", () => {
  assertEquals(isLimitRefusal({ type: "result", api_error: "usage_limit_reached" }), true);
  assertEquals(isLimitRefusal({ type: "result", api_error_status: 529 }), false);
  assertEquals(isLimitError("rate_limit"), true);
  assertEquals(isLimitError({ type: "overloaded_error" }), false);
});

Deno.test("limits: the user's statusline and autoContinueAtUsageLimit, by precedence", async () => {
  const dir = await Deno.makeTempDir();
  const local = `${dir}/local.json`;
  const user = `${dir}/user.json`;
  await Deno.writeTextFile(user, JSON.stringify({ statusLine: { type: "command", command: "echo u" } }));
  assertEquals(await userStatusline([local, user]), { command: "echo u" });
  assertEquals(await autoContinueAtLimit([local, user]), true);
  await Deno.writeTextFile(local, JSON.stringify({ autoContinueAtUsageLimit: false }));
  assertEquals(await autoContinueAtLimit([local, user]), false);
  await Deno.remove(dir, { recursive: true });
});

Deno.test("limits: a refused turn's window and reset, from its transcript line or Claude Code's words", () => {
  const line = JSON.stringify({
    type: "assistant",
    message: { content: [{ type: "text", text: "You've hit your 5-hour limit · resets 4:07am (UTC)" }] },
    apiError: "usage_limit_reached",
    apiErrorParams: {
      rate_limit_info: { status: "rejected", resetsAt: 1796098077, rateLimitType: "five_hour" },
    },
    error: "rate_limit",
  });
  assertEquals(refusalInTranscript(`{"type":"mode"}\n${line}\n`), {
    window: "five_hour",
    resetsAt: 1796098077,
  });
  assertEquals(refusalInTranscript(`{"type":"mode"}\n`), undefined);
  const now = Date.parse("2026-12-01T03:10:00Z");
  assertEquals(refusalInMessage("You've hit your 5-hour limit · resets 4:07am (UTC)", now), {
    window: "five_hour",
    resetsAt: Date.parse("2026-12-01T04:07:00Z") / 1000,
  });
  // Past today's 1am: tomorrow's; pm counts from noon; another zone is not guessed.
  assertEquals(
    refusalInMessage("You've hit your weekly limit · resets 1am (UTC)", now)?.resetsAt,
    Date.parse("2026-12-02T01:00:00Z") / 1000,
  );
  assertEquals(
    refusalInMessage("You've hit your 5-hour limit · resets 2:30pm (UTC)", now)?.resetsAt,
    Date.parse("2026-12-01T14:30:00Z") / 1000,
  );
  assertEquals(
    refusalInMessage("You've hit your 5-hour limit · resets 4:07am (Europe/Berlin)", now),
    undefined,
  );
  assertEquals(configDirOfTranscript("/home/me/.claude/projects/-home-me-app/abc.jsonl"), "/home/me/.claude");
  assertEquals(configDirOfTranscript("/tmp/x.jsonl"), undefined);
});
