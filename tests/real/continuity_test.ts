/**
 * Accounting stays whole across `resume` and across a daemon restart in the middle of a session: nothing
 * lost, nothing counted twice, on the real Claude Code.
 */
import { assert, assertEquals, assertMatch, eventually } from "../helpers/assert.ts";
import { startTmux } from "../helpers/tmux.ts";
import { MAIN } from "../helpers/env.ts";
import { StratavoreClient } from "../../lib/client.ts";
import { ccusageSessions } from "./claude_code.ts";
import { eachRealDaemon } from "./harness.ts";
import { activeRunner, activityBecomes, billed, MODEL, prompt } from "./session.ts";

const STRATAVORE = `'${Deno.execPath()}' run -A --quiet '${MAIN}'`;

eachRealDaemon(
  "resume continues a session's accounting; a daemon restart mid-session loses and doubles nothing",
  async (t) => {
    const one = `one-${crypto.randomUUID()}`;
    const two = `two-${crypto.randomUUID()}`;
    const three = `three-${crypto.randomUUID()}`;
    t.api.routes.set(one, { text: "First answer.", usage: { input: 1111, output: 222, cacheRead: 3333 } });
    t.api.routes.set(two, { text: "Second answer.", usage: { input: 1212, output: 34, cacheWrite1h: 500 } });
    t.api.routes.set(three, { text: "Third answer.", usage: { input: 999, output: 88, cacheWrite5m: 700 } });

    const tmux = await startTmux(
      `${STRATAVORE} launch ${t.project} -- --model ${MODEL}; echo "launch-exit=$?"; sleep 120`,
      { env: { ...t.env, TERM: "xterm-256color" }, cwd: t.dir, cols: 140, rows: 45 },
    );
    let client = t.client;
    try {
      const first = await activeRunner(client, t.project);
      await tmux.waitFor(/for shortcuts|mode on/, 60_000);
      await prompt(tmux, `${one} hello`);
      await tmux.waitFor(/First answer\./, 30_000);
      await activityBecomes(client, first.id, "idle");

      // The daemon goes away mid-session and comes back on the same address and storage.
      await t.daemon.stop("SIGTERM");
      await prompt(tmux, `${two} more`);
      await tmux.waitFor(/Second answer\./, 30_000);
      const again = await t.restart();
      client = new StratavoreClient({ url: again.url, token: again.token });
      await activityBecomes(client, first.id, "idle", 30_000).catch(() => {});

      await prompt(tmux, "/exit");
      assertMatch(await tmux.waitFor(/launch-exit=\d+/, 30_000), /launch-exit=0/);
    } finally {
      await tmux.kill();
    }
    const ended = await eventually(
      async () => {
        const [r] = await client.listRunners({ project: t.project, all: true });
        return r && r.state !== "running" ? r : undefined;
      },
      30_000,
      "the first runner to end",
    );
    assertEquals(ended.state, "stopped");
    const sessionId = ended.sessionId!;

    // resume: claude --resume <id> in the session's folder, a new runner on the same session.
    const resumed = await startTmux(
      `${STRATAVORE} resume ${sessionId}; echo "resume-exit=$?"; sleep 120`,
      { env: { ...t.env, TERM: "xterm-256color" }, cwd: t.dir, cols: 140, rows: 45 },
    );
    try {
      const second = await eventually(
        async () => {
          const rs = await client.listRunners({ project: t.project });
          return rs.find((r) => r.id !== ended.id && r.state === "running");
        },
        60_000,
        "the resumed runner",
      );
      await resumed.waitFor(/for shortcuts|mode on/, 60_000);
      await prompt(resumed, `${three} and more`);
      await resumed.waitFor(/Third answer\./, 30_000);
      await activityBecomes(client, second.id, "idle");
      await prompt(resumed, "/exit");
      assertMatch(await resumed.waitFor(/resume-exit=\d+/, 30_000), /resume-exit=0/);
    } finally {
      await resumed.kill();
    }

    // Tokens of the session: what ccusage counts in its transcript, across both runners and the restart.
    const ccusage = await ccusageSessions(t.claudeDir);
    const expected = billed(t.api);
    const session = await eventually(
      async () => {
        const s = await client.getSession(sessionId);
        return Math.abs(s.costUsd - expected) < 1e-6 ? s : undefined;
      },
      20_000,
      `the session's cost to be $${expected}`,
    );
    assertEquals(session.tokens, ccusage.get(sessionId), "tokens as ccusage counts them");
    assertEquals(session.runners, 2);
    assertEquals(session.cost.source, "claude-code");
    const usage = await client.usage({ project: t.project });
    assert(Math.abs(usage.total.costUsd - expected) < 1e-6, `usage ${usage.total.costUsd} = ${expected}`);
  },
  { fixedPort: true },
);
