/**
 * Subscription limits with resuming off (STRATAVORE_LIMIT_RESUME=false), with the real Claude Code as a
 * subscriber: a run cut off by the limit stays stopped after the reset. Beside limits_reset_test.ts, in a file
 * of its own so the two waits for a reset run side by side.
 */
import { assert, assertEquals } from "../helpers/assert.ts";
import { eachRealDaemon } from "./harness.ts";
import { ended, launchHeadless, limitUntil, sleep } from "./limits_fixture.ts";

eachRealDaemon(
  "with resuming off, a run cut off by the limit stays stopped after the reset",
  async (t) => {
    // Room for the launch before the reset, on a loaded machine too (the run must meet the limit).
    const reset = Math.floor(Date.now() / 1000) + 30;
    limitUntil(t, reset);
    try {
      const cut = await launchHeadless(t, `cut-${crypto.randomUUID()} work`);
      const r = await ended(t, cut);
      assert(
        r.limitedUntil,
        `the run met no limit (${reset * 1000 - Date.now()} ms before the reset): ${r.reason}`,
      );
      await sleep(Math.max(0, reset * 1000 - Date.now()) + 6000);
      const runners = await t.client.listRunners({ project: t.project, all: true });
      assertEquals(runners.map((r) => r.id), [cut]);
      const l = await t.client.limits();
      assertEquals([l.resume, l.queue.length], [false, 0]);
    } finally {
      t.api.rateLimits = undefined;
      t.api.fallback = () => ({});
    }
  },
  { subscriber: true, env: { CLAUDE_CODE_MAX_RETRIES: "0", STRATAVORE_LIMIT_RESUME: "false" } },
);
