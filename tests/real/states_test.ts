/**
 * The states that need the real client to provoke: a failed turn (the API answers 529 and Claude Code gives
 * up: StopFailure) is "error"; /compact is "compacting" (PreCompact), then idle (PostCompact, trigger
 * "manual"); /exit is "ended" before the runner stops.
 */
import { assertEquals, assertMatch, eventually } from "../helpers/assert.ts";
import { eachRealDaemon } from "./harness.ts";
import { activityBecomes, launchInTerminal, prompt } from "./session.ts";

eachRealDaemon("a failed turn is 'error', /compact is 'compacting', /exit is 'ended'", async (t) => {
  const failing = `fail-${crypto.randomUUID()}`;
  const fine = `fine-${crypto.randomUUID()}`;
  t.api.routes.set(failing, { status: 529 });
  t.api.routes.set(fine, { text: "All good now." });
  // No retries: the overloaded answer ends the turn at once.
  const { tmux, runner } = await launchInTerminal(t, { env: { CLAUDE_CODE_MAX_RETRIES: "0" } });
  try {
    await prompt(tmux, `${failing} go`);
    const failed = await activityBecomes(t.client, runner.id, "error", 30_000);
    assertMatch(failed.activityDetail ?? "", /.+/);
    // The failed prompt stays in the conversation (joined with the next one): stop failing it.
    t.api.routes.delete(failing);

    await prompt(tmux, `${fine} again`);
    await tmux.waitFor(/All good now\./, 30_000);
    await activityBecomes(t.client, runner.id, "idle");

    await prompt(tmux, "/compact");
    const events = async () =>
      (await t.client.recentEvents({ types: "runner.activity", limit: 200 }))
        .filter((e) => e.entityId === String(runner.id)).map((e) => e.payload.activity);
    await eventually(async () => (await events()).includes("compacting"), 30_000, "compacting");

    // PostCompact says the compaction was /compact's (trigger "manual"): the session waits for its user.
    const compacted = await activityBecomes(t.client, runner.id, "idle", 30_000);
    assertEquals(compacted.activityDetail, "compacted");
    await prompt(tmux, "/exit");
    assertMatch(await tmux.waitFor(/launch-exit=\d+/, 30_000), /launch-exit=0/);
    await eventually(async () => (await events()).includes("ended"), 20_000, "ended");
    const done = await eventually(
      async () => {
        const r = await t.client.getRunner(runner.id);
        return r.state !== "running" ? r : undefined;
      },
      20_000,
      "stopped",
    );
    assertEquals(done.state, "stopped");
  } finally {
    await tmux.kill();
  }
});
