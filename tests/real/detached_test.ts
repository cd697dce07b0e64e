/**
 * Detached sessions of the real Claude Code: an attachable one (pseudo-terminal held by the agent, typed
 * into through the attach WebSocket) and headless runs on several current models at once. Each costs what
 * Claude Code itself reports.
 */
import { assert, assertEquals, eventually } from "../helpers/assert.ts";
import { attachViewer } from "../helpers/pty.ts";
import { runStratavore } from "../helpers/cli.ts";
import { eachRealDaemon } from "./harness.ts";
import { billed } from "./session.ts";
import { stripAnsi } from "../../cli/render/ansi.ts";

const near = (a: number, b: number) => Math.abs(a - b) < 1e-6;

eachRealDaemon(
  "a detached attachable session: typed into through attach, costed by Claude Code",
  async (t) => {
    const marker = `pty-${crypto.randomUUID()}`;
    t.api.routes.set(marker, {
      text: "Answered through the attach link.",
      usage: { input: 4321, output: 99 },
    });
    const launched = await runStratavore(
      ["--json", "launch", t.project, "--detach", "--", "--model", "claude-haiku-5-5"],
      { env: t.env, cwd: t.dir },
    );
    assertEquals(launched.code, 0, launched.stderr);
    const id = JSON.parse(launched.stdout).id as number;
    await eventually(async () => (await t.client.getRunner(id)).state === "running", 60_000, "running");
    const viewer = await attachViewer(t.client, id, "rw", "test");
    try {
      // The raw terminal stream moves the cursor between words: read it without escape sequences.
      const plain = () => stripAnsi(viewer.screen());
      await eventually(() => /shortcuts|mode/.test(plain()), 60_000, "Claude Code's prompt").catch((e) => {
        console.error(JSON.stringify(plain().slice(-3000)));
        throw e;
      });
      viewer.type(`${marker} hi`);
      await new Promise((r) => setTimeout(r, 1000));
      viewer.type("\r");
      await eventually(() => /Answered/.test(plain()), 30_000, "the answer");
      await eventually(async () => (await t.client.getRunner(id)).activity === "idle", 20_000, "idle");
      viewer.type("/exit");
      await new Promise((r) => setTimeout(r, 1000));
      viewer.type("\r");
      const done = await eventually(
        async () => {
          const r = await t.client.getRunner(id);
          return r.state !== "running" ? r : undefined;
        },
        30_000,
        "the session to end",
      );
      assertEquals([done.state, done.exitCode], ["stopped", 0]);
    } finally {
      await viewer.close().catch(() => {});
    }
    const expected = billed(t.api);
    const runner = await eventually(
      async () => {
        const r = await t.client.getRunner(id);
        return near(r.cost.usd, expected) ? r : undefined;
      },
      15_000,
      `the runner's cost to be $${expected}`,
    );
    assertEquals([runner.mode, runner.telemetry, runner.cost.source], ["pty", "stratavore", "claude-code"]);
    assertEquals(runner.tokens.input, 4321);
  },
);

eachRealDaemon(
  "headless runs on several current models at once: each costs what Claude Code reports",
  async (t) => {
    const models = ["claude-opus-5-5", "claude-haiku-5-5", "claude-mythos-5-2"];
    const ids: number[] = [];
    for (const [i, model] of models.entries()) {
      const marker = `m${i}-${crypto.randomUUID()}`;
      t.api.routes.set(marker, {
        text: `Answer ${i}.`,
        usage: {
          input: 1000 * (i + 1),
          output: 77 * (i + 1),
          cacheRead: 5000,
          cacheWrite5m: 300,
          cacheWrite1h: 40,
        },
      });
      const r = await runStratavore(
        ["--json", "launch", t.project, "--detach", "--prompt", `${marker} go`, "--", "--model", model],
        { env: t.env, cwd: t.dir },
      );
      assertEquals(r.code, 0, r.stderr);
      ids.push(JSON.parse(r.stdout).id);
    }
    const costs = new Map<string, number>();
    for (const [i, id] of ids.entries()) {
      await eventually(
        async () => (await t.client.getRunner(id)).state === "stopped",
        90_000,
        `run ${id} done`,
      );
      const lines = (await Deno.readTextFile(`${t.daemon.home}/logs/${id}.jsonl`)).split("\n").filter(
        Boolean,
      );
      const result = lines.map((l) => JSON.parse(l)).find((e) => e.type === "result");
      const own = result.total_cost_usd as number;
      costs.set(models[i], own);
      const r = await eventually(
        async () => {
          const r = await t.client.getRunner(id);
          return near(r.cost.usd, own) ? r : undefined;
        },
        15_000,
        `runner ${id} (${models[i]}) to cost Claude Code's $${own}`,
      );
      assertEquals(r.cost.source, "claude-code");
    }
    const byModel = await t.client.usage({ project: t.project, by: "model" });
    for (const model of models) {
      const row = byModel.rows.find((r) => r.key === model);
      assert(row && near(row.costUsd, costs.get(model)!), `${model}: ${row?.costUsd} = ${costs.get(model)}`);
    }
    assert(
      near(byModel.total.costUsd, billed(t.api)),
      "the total is what the stand-in billed, at Claude Code's prices",
    );
  },
);
