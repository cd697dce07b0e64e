/**
 * The states that need the real client to provoke: a failed turn (the API answers 529 and Claude Code gives
 * up: StopFailure) is "error"; /compact is "compacting" (PreCompact) and the session goes on; /exit is
 * "ended" before the runner stops.
 */
import { assertEquals, assertMatch, eventually } from "../helpers/assert.ts";
import { startTmux } from "../helpers/tmux.ts";
import { MAIN } from "../helpers/env.ts";
import { eachRealDaemon } from "./harness.ts";
import { activeRunner, activityBecomes, MODEL, prompt } from "./session.ts";

eachRealDaemon("a failed turn is 'error', /compact is 'compacting', /exit is 'ended'", async (t) => {
  const failing = `fail-${crypto.randomUUID()}`;
  const fine = `fine-${crypto.randomUUID()}`;
  t.api.routes.set(failing, { status: 529 });
  t.api.routes.set(fine, { text: "All good now." });
  const tmux = await startTmux(
    `'${Deno.execPath()}' run -A --quiet '${MAIN}' launch ${t.project} -- --model ${MODEL}; ` +
      `echo "launch-exit=$?"; sleep 60`,
    // No retries: the overloaded answer ends the turn at once.
    {
      env: { ...t.env, TERM: "xterm-256color", CLAUDE_CODE_MAX_RETRIES: "0" },
      cwd: t.dir,
      cols: 140,
      rows: 45,
    },
  );
  try {
    const runner = await activeRunner(t.client, t.project);
    await tmux.waitFor(/for shortcuts|mode on/, 60_000);
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

    await activityBecomes(t.client, runner.id, "idle", 30_000).catch(() => {});
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
