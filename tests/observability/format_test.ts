/** Notification texts: MarkdownV2 escaping, the wording and priority of every event, digests. */
import { assert, assertEquals } from "../helpers/assert.ts";
import type { EventEnvelope } from "../../lib/schemas/event.ts";
import { escapeMarkdown, truncate } from "../../daemon/notify/markdown.ts";
import {
  describeEvent,
  isSilent,
  MARKS,
  MAX_MESSAGE,
  PRIORITIES,
  render,
  renderDigest,
} from "../../daemon/notify/format.ts";
import { backoff } from "../../daemon/notify/sender.ts";

const ALL_SPECIAL = "_*[]()~`>#+-=|{}.!\\";

/** What Telegram shows for a MarkdownV2 text without entities; throws on an unescaped special character. */
function telegramParse(md: string): string {
  let out = "";
  for (let i = 0; i < md.length; i++) {
    const c = md[i];
    if (c === "\\") {
      const next = md[i + 1];
      assert(next !== undefined && ALL_SPECIAL.includes(next), `stray backslash at ${i} in ${md}`);
      out += next;
      i++;
    } else {
      assert(!ALL_SPECIAL.includes(c), `unescaped ${c} at ${i} in ${JSON.stringify(md)}`);
      out += c;
    }
  }
  return out;
}

function ev(type: string, payload: Record<string, unknown>, project: string | null = "api"): EventEnvelope {
  return {
    version: 1,
    id: 7,
    seq: 7,
    type,
    occurredAt: "2025-05-01T12:00:00.000Z",
    entityId: String((payload.runner as { id?: number })?.id ?? "x"),
    project,
    payload,
  };
}

Deno.test("notify: every MarkdownV2 special character and the backslash are escaped", () => {
  assertEquals(
    escapeMarkdown(ALL_SPECIAL),
    "\\_\\*\\[\\]\\(\\)\\~\\`\\>\\#\\+\\-\\=\\|\\{\\}\\.\\!\\\\",
  );
  const name = `my_proj*[x](y)~\`>#+-=|{}.!\\ end`;
  assertEquals(telegramParse(escapeMarkdown(name)), name);
  assertEquals(escapeMarkdown("plain words 42"), "plain words 42");
  // A cut never splits an escape (it happens before escaping) nor a surrogate pair.
  assertEquals(truncate("abcdef", 4), "abc…");
  assertEquals(truncate("ab😀", 4), "ab😀");
  assertEquals(truncate("abc😀d", 5), "abc…");
});

Deno.test("notify: each event type has its priority and wording, and renders as valid MarkdownV2", () => {
  const runner = {
    id: 42,
    project: "api",
    pid: 1234,
    host: "box-1",
    reason: null,
    exitCode: null,
    exitSignal: null,
    lastHeartbeatAt: "2025-05-01T11:59:20.000Z",
    endedAt: "2025-05-01T12:00:01.000Z",
  };
  const cases: [EventEnvelope, string | undefined, string?][] = [
    [ev("runner.launched", { runner }), "min", "runner 42 in project api launched"],
    [ev("runner.started", { runner }), "low", "runner 42 in project api started (pid 1234 on box-1)"],
    [
      ev("runner.stopped", { runner: { ...runner, reason: "exited normally" } }),
      "low",
      "runner 42 in project api stopped: exited normally",
    ],
    [
      ev("runner.killed", { runner: { ...runner, reason: "killed" } }),
      "default",
      "runner 42 in project api was killed: killed",
    ],
    [
      ev("runner.failed", { runner: { ...runner, exitCode: 3, reason: "exited with code 3" } }),
      "high",
      "runner 42 in project api failed: exit code 3, last heartbeat 2025-05-01 11:59:20 UTC (41s before)",
    ],
    [
      ev("runner.failed", {
        stale: true,
        runner: {
          ...runner,
          reason: "no heartbeat for over 30s (last sign of life 2025-05-01T11:59:20.000Z)",
        },
      }),
      "high",
      "runner 42 in project api failed (its agent went silent): exit code unknown, last heartbeat " +
      "2025-05-01 11:59:20 UTC (41s before)\nno heartbeat for over 30s (last sign of life 2025-05-01T11:59:20.000Z)",
    ],
    [
      ev("runner.failed", { runner: { ...runner, exitSignal: "SIGKILL", lastHeartbeatAt: null } }),
      "high",
      "runner 42 in project api failed: ended by signal SIGKILL, no heartbeat received",
    ],
    [
      ev("runner.activity", { runner, activity: "waiting_for_input", message: null }),
      "high",
      "runner 42 in project api is waiting for your input",
    ],
    [
      ev("runner.activity", {
        runner,
        activity: "waiting_for_input",
        message: "Claude needs your permission",
      }),
      "high",
      "runner 42 in project api is waiting for your input\nClaude needs your permission",
    ],
    [ev("runner.activity", { runner, activity: "busy" }), undefined],
    [
      ev("budget.warning", {
        threshold: 80,
        message: "budget project api reached 80%: 8,000 of 10,000 tokens",
      }),
      "default",
      "budget project api reached 80%: 8,000 of 10,000 tokens",
    ],
    [
      ev("budget.exceeded", { message: "budget global is exhausted" }, null),
      "urgent",
      "budget global is exhausted",
    ],
    [
      ev("budget.set", { budget: { id: 3, name: "project/api", tokenLimit: 10_000 } }),
      "min",
      "budget project/api set",
    ],
    [ev("budget.removed", { name: "global" }, null), "min", "budget global removed"],
    [
      ev("project.quota_exceeded", { message: "project api is at its quota of 3 active runners" }),
      "default",
      "launch refused: project api is at its quota of 3 active runners",
    ],
    [
      {
        ...ev("daemon.started", { version: "0.1.0", url: "http://127.0.0.1:7890" }, null),
        entityId: "box-1a2b",
      },
      "low",
      "daemon box-1a2b started (version 0.1.0, http://127.0.0.1:7890)",
    ],
    [
      { ...ev("daemon.stopped", { signal: "SIGTERM" }, null), entityId: "box-1a2b" },
      "default",
      "daemon box-1a2b stopped (SIGTERM)",
    ],
    [
      ev("event.dead_lettered", {
        eventId: 8812,
        eventType: "runner.started",
        attempts: 10,
        error: "NOT_FOUND",
      }),
      "high",
      "event 8812 (runner.started) was dead-lettered after 10 attempts: NOT_FOUND",
    ],
  ];
  for (const [event, priority, text] of cases) {
    const n = describeEvent(event);
    assertEquals(n?.priority, priority, event.type);
    if (!n) continue;
    assertEquals(n.text, text, event.type);
    const md = render(n);
    assert(md.startsWith(MARKS[n.priority] + " "), md);
    assertEquals(telegramParse(md.slice(MARKS[n.priority].length + 1)), text);
  }
});

Deno.test("notify: min and low are silent, default and above make a sound", () => {
  assertEquals(PRIORITIES.map(isSilent), [true, true, false, false, false]);
});

Deno.test("notify: a digest lists its notifications under the highest priority's mark", () => {
  const items = [
    { priority: "low" as const, text: render({ priority: "low", text: "runner 1 in project a.b started" }) },
    { priority: "high" as const, text: render({ priority: "high", text: "runner 2 in project a.b failed" }) },
  ];
  const d = renderDigest(items);
  assertEquals(
    d,
    `${MARKS.high} 2 notifications:\n\n${MARKS.low} runner 1 in project a\\.b started\n${MARKS.high} runner 2 in project a\\.b failed`,
  );
  // A notification's text is capped, so a digest of one always fits a Telegram message.
  const long = render({ priority: "default", text: ALL_SPECIAL.repeat(500) });
  assert(long.length < MAX_MESSAGE, `${long.length}`);
});

Deno.test("notify: retries back off exponentially with jitter, capped", () => {
  for (const [attempt, base] of [[1, 1000], [2, 2000], [3, 4000], [5, 16000]]) {
    const d = backoff(attempt, 1000);
    assert(d >= base * 0.8 && d <= base * 1.2, `attempt ${attempt}: ${d}`);
  }
  assert(backoff(40, 1000) <= 600_000 * 1.2);
});

Deno.test("format: a worktree kept for review is told (low); made or removed ones are not", () => {
  const kept = describeEvent(ev("runner.worktree", {
    runner: { id: 42, project: "api" },
    worktree: { state: "kept", branch: "stratavore/api/fix", status: { ahead: 2, files: 3 } },
  }));
  assertEquals(kept?.priority, "low");
  assertEquals(
    kept?.text,
    "runner 42 in project api: worktree kept for review (branch stratavore/api/fix: 2 commit(s), 3 file(s) changed); see it with stratavore diff 42",
  );
  for (const state of ["active", "removed"]) {
    assertEquals(
      describeEvent(ev("runner.worktree", { runner: { id: 42 }, worktree: { state } })),
      undefined,
    );
  }
});
