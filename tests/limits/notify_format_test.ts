/** How limit events read in Telegram. */
import { assertEquals } from "../helpers/assert.ts";
import { describeEvent } from "../../daemon/notify/format.ts";
import type { EventEnvelope } from "../../lib/schemas/event.ts";

const ev = (
  type: string,
  payload: Record<string, unknown>,
  project: string | null = null,
): EventEnvelope => ({
  version: 1,
  id: 1,
  seq: 1,
  type,
  occurredAt: "2026-12-01T12:00:00Z",
  entityId: "config:/home/me/.claude",
  project,
  payload,
});

Deno.test("notify: limit warnings, the wall, and a runner limited until the reset", () => {
  const base = { label: "me@example.com", window: "five_hour", windowText: "5-hour", percent: 82 };
  assertEquals(
    describeEvent(ev("limits.warning", { ...base, threshold: 80, resetsAt: "2026-12-01T14:05:00Z" })),
    {
      priority: "default",
      text: "5-hour usage window of me@example.com at 82% (threshold 80%), resets 2026-12-01 14:05:00 UTC",
    },
  );
  assertEquals(
    describeEvent(ev("limits.reached", { ...base, resetsAt: "2026-12-01T14:05:00Z" }))?.text,
    "5-hour usage limit of me@example.com reached: sessions are limited until 2026-12-01 14:05:00 UTC",
  );
  assertEquals(
    describeEvent(ev("runner.limited", {
      runner: { id: 7, project: "api" },
      limitedUntil: "2026-12-01T14:05:00Z",
      windowText: "5-hour",
    }, "api")),
    {
      priority: "high",
      text: "runner 7 in project api hit the 5-hour limit: limited until 2026-12-01 14:05:00 UTC",
    },
  );
  assertEquals(
    describeEvent(ev("limits.resume_started", { runner: { id: 9 }, resumedFrom: 7 }, "api"))?.text,
    "runner 7 continued after the usage limit reset, as runner 9",
  );
});
