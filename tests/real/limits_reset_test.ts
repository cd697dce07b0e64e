/**
 * Subscription limits at the reset, with the real Claude Code as a subscriber: a run cut off by the limit is
 * resumed once after the reset (or not, with resuming off), and launches are refused or queued meanwhile.
 */
import { assert, assertEquals, assertMatch, eventually } from "../helpers/assert.ts";
import { runStratavore } from "../helpers/cli.ts";
import { eachRealDaemon } from "./harness.ts";
import { ended, launchHeadless, limitUntil, sleep } from "./limits_fixture.ts";

eachRealDaemon(
  "at the limit a launch is refused, another queued; after the reset both it and the cut-off run start, once",
  async (t) => {
    // Room for the cut-off run, the refusal and the queueing before the reset, on a loaded machine too.
    const reset = Math.floor(Date.now() / 1000) + 35;
    limitUntil(t, reset);
    try {
      const cut = await launchHeadless(t, `cut-${crypto.randomUUID()} work`);
      const limited = await ended(t, cut);
      assertEquals(limited.limitedUntil, new Date(reset * 1000).toISOString());
      assert(limited.sessionId, "the cut-off run has a session");

      // Refused, with the reset time in the reason.
      await t.client.createProject({ name: "strict", path: t.dir, limitPolicy: "refuse" });
      const refused = await runStratavore(["launch", "strict", "--detach", "--prompt", "x"], {
        env: t.env,
        cwd: t.dir,
      });
      assert(refused.code !== 0, "refused");
      assertMatch(refused.stderr, /usage limit .* is reached; it resets at \d{4}-\d\d-\d\d \d\d:\d\d UTC/);

      const left = reset * 1000 - Date.now();
      assert(left > 3000, `the machine is too slow for this test: ${left} ms were left before the reset`);
      // Queued (this project's policy), started after the reset.
      await t.client.updateProject(t.project, { limitPolicy: "queue" });
      const queuedMarker = `queued-${crypto.randomUUID()}`;
      const queued = await runStratavore(
        ["--json", "launch", t.project, "--detach", "--prompt", `${queuedMarker} later`],
        { env: t.env, cwd: t.dir },
      );
      assertEquals(queued.code, 0, queued.stderr);
      assertEquals(JSON.parse(queued.stdout).queued.kind, "launch");
      // The cut-off run waits for the reset too (queued by the daemon's limits loop within seconds).
      await eventually(
        async () => {
          const kinds = (await t.client.limits()).queue.filter((q) => q.status === "waiting").map((q) =>
            q.kind
          );
          return kinds.sort().join() === "launch,resume";
        },
        10_000,
        "a waiting launch and a waiting resume",
      );
      assertEquals((await t.client.listRunners({ project: t.project, all: true })).length, 1);

      // After the reset: the queued launch and the resume of the cut-off run, staggered.
      const started = await eventually(
        async () => {
          const rs = await t.client.listRunners({ project: t.project, all: true });
          return rs.length >= 3 && rs.every((r) => ["stopped", "failed"].includes(r.state)) ? rs : undefined;
        },
        90_000,
        "the queued launch and the resume to run",
      );
      assert(Date.now() >= reset * 1000, "nothing started before the reset");
      const resumed = started.filter((r) => r.resumedFrom === cut);
      assertEquals(resumed.length, 1);
      assertEquals(resumed[0].state, "stopped", resumed[0].reason ?? "");
      assertEquals(resumed[0].sessionId, limited.sessionId);
      assert(resumed[0].args.includes("--resume"), resumed[0].args.join(" "));
      const fresh = started.find((r) => r.prompt?.includes(queuedMarker));
      assertEquals(fresh?.state, "stopped");
      const starts = [resumed[0], fresh!].map((r) => Date.parse(r.createdAt)).sort();
      assert(starts[1] - starts[0] >= 900, `staggered: ${starts[1] - starts[0]} ms apart`);
      // The resume message reached Claude Code in the cut-off session.
      await t.api.waitFor((r) => r.lastUserText.includes("usage limit has reset"), 1000);

      // Once and only once: the resumed run is not resumed again, nothing else starts.
      await sleep(6000);
      assertEquals((await t.client.listRunners({ project: t.project, all: true })).length, 3);
      const after = await t.client.limits();
      assertEquals(after.queue.map((q) => q.status), ["started", "started"]);
    } finally {
      t.api.rateLimits = undefined;
      t.api.fallback = () => ({});
    }
  },
  { subscriber: true, env: { CLAUDE_CODE_MAX_RETRIES: "0", STRATAVORE_LIMIT_STAGGER: "1s" } },
);
