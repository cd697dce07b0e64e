/**
 * A project's default arguments reach every kind of launch (lib/command_line.ts), and the runner shows the
 * command line exactly as it ran. The project runs `sleep`, which fails at once without its argument.
 */
import { assert, assertEquals, assertMatch, eventually } from "../helpers/assert.ts";
import { type DaemonTest, eachDaemon } from "../helpers/daemon.ts";
import { cmdlineOf, projectFolder, spawnAgent } from "../helpers/agent.ts";
import { runStratavore } from "../helpers/cli.ts";
import { startTmux } from "../helpers/tmux.ts";
import { MAIN } from "../helpers/env.ts";
import type { Runner } from "../../lib/schemas/runner.ts";

async function running(t: DaemonTest, id: number): Promise<Runner> {
  return await eventually(
    async () => {
      const r = await t.client.getRunner(id);
      if (r.state !== "starting" && r.state !== "running") {
        throw new Error(
          `runner ${id} is ${r.state}: ${r.reason}`,
        );
      }
      return r.state === "running" && r.pid ? r : undefined;
    },
    30_000,
    `runner ${id} running`,
  );
}

/** The session's process runs `sleep` with exactly these arguments, and the runner says so. */
async function assertRuns(t: DaemonTest, id: number, args: string[]): Promise<void> {
  const r = await running(t, id);
  assertEquals([r.command, ...r.args], ["sleep", ...args], `runner ${id}'s command line`);
  const argv = cmdlineOf(r.pid!);
  assertMatch(argv[0], /(^|\/)sleep$/);
  assertEquals(argv.slice(1), args, `the arguments runner ${id}'s process got`);
  const shown = await runStratavore(["runner", String(id)], { env: t.env });
  assertMatch(shown.stdout, new RegExp(`command:\\s+${["sleep", ...args].join(" ")}\\n`));
}

async function newestOf(t: DaemonTest, project: string, known: Set<number>): Promise<number> {
  return await eventually(
    async () => {
      const fresh = (await t.client.listRunners({ project, all: true })).find((r) => !known.has(r.id));
      if (fresh) known.add(fresh.id);
      return fresh?.id;
    },
    30_000,
    `a new runner of ${project}`,
  );
}

eachDaemon(
  "launch: the project's default arguments reach --detach, API, web-form and interactive launches",
  async (t) => {
    const dir = await projectFolder(t.daemon.home, "att2");
    const cli = (args: string[]) => runStratavore(args, { env: t.env, cwd: dir });
    // As the issue did it: a project whose command is sleep, with 600 as its default argument.
    assertEquals((await cli(["new", "att2", "--path", dir, "--max-runners", "10"])).code, 0);
    const set = await cli(["project", "set", "att2", "--command", "sleep", "--args", "600"]);
    assertEquals(set.code, 0, set.stderr);
    const known = new Set<number>();
    const agents = [];
    try {
      // --detach without a prompt: a terminal session; with extra arguments they follow the defaults.
      const detached = await cli(["--json", "launch", "att2", "--detach"]);
      assertEquals(detached.code, 0, detached.stderr);
      await assertRuns(t, JSON.parse(detached.stdout).id, ["600"]);
      const extra = await cli(["--json", "launch", "att2", "--detach", "--", "1"]);
      await assertRuns(t, JSON.parse(extra.stdout).id, ["600", "1"]);
      // --detach with a prompt (headless): a command other than claude takes it last.
      const headless = await cli(["--json", "launch", "att2", "--detach", "--prompt", "2"]);
      await assertRuns(t, JSON.parse(headless.stdout).id, ["600", "2"]);
      for (const id of [detached, extra, headless].map((r) => JSON.parse(r.stdout).id)) known.add(id);

      // The API, as scripts and the web form call it.
      const api = await t.client.launch({ project: "att2", spawn: true });
      await assertRuns(t, api.runner.id, ["600"]);
      const web = await t.client.launch({ project: "att2", spawn: true, prompt: "3", args: ["4"] });
      await assertRuns(t, web.runner.id, ["600", "4", "3"]);
      known.add(api.runner.id).add(web.runner.id);

      // Interactive, the agent in the foreground (it worked before; it now takes the same path).
      agents.push(spawnAgent(["launch", "att2", "--", "5"], { env: t.env, cwd: dir }));
      await assertRuns(t, await newestOf(t, "att2", known), ["600", "5"]);
    } finally {
      await cli(["kill", "--all", "--project", "att2", "--yes"]);
      for (const a of agents) await a.done;
    }
  },
);

eachDaemon("launch --attach: the project's default arguments reach the attached session", async (t) => {
  const dir = await projectFolder(t.daemon.home, "att3");
  await t.client.createProject({ name: "att3", path: dir, command: "sleep", commandArgs: ["600"] });
  const stratavore = `'${Deno.execPath()}' run -A --quiet '${MAIN}'`;
  const tmux = await startTmux(`${stratavore} launch att3 --attach; echo "launch-exit=$?"; sleep 60`, {
    env: t.env,
    cols: 100,
    rows: 30,
  });
  try {
    const id = await newestOf(t, "att3", new Set());
    await assertRuns(t, id, ["600"]);
    await t.client.killRunner(id);
    const screen = await tmux.waitFor(/launch-exit=\d+/, 15_000);
    assertMatch(screen, new RegExp(`runner ${id} ended`));
  } finally {
    await tmux.kill();
  }
}, { only: "pglite" });

eachDaemon(
  "launch: a claude project's --model reaches a detached run, and the runner shows what ran",
  async (t) => {
    const dir = await projectFolder(t.daemon.home, "opus");
    await t.client.createProject({ name: "opus", path: dir, commandArgs: ["--model", "opus"] });
    await Deno.writeTextFile(t.planFile, JSON.stringify({ turns: [{}], hooks: [] }));
    const { runner } = await t.client.launch({ project: "opus", spawn: true, prompt: "hello" });
    const done = await eventually(
      async () => {
        const r = await t.client.getRunner(runner.id);
        return r.state === "stopped" || r.state === "failed" ? r : undefined;
      },
      30_000,
      "the run finished",
    );
    assertEquals(done.state, "stopped", done.reason ?? "");
    const init = (await Deno.readTextFile(done.logPath!)).split("\n").filter(Boolean).map((l) =>
      JSON.parse(l)
    )
      .find((e) => e.type === "system" && e.subtype === "init");
    assertEquals(init?.model, "claude-opus-4-5-20251101", "the session ran on the project's model");
    // The exact command line: what the agent added (a pinned session, its hooks' settings) included.
    const i = done.args.indexOf("--session-id");
    assert(i >= 0 && done.args[i + 1] === done.sessionId, `the pinned session in ${done.args.join(" ")}`);
    assert(done.args.includes("--settings"), "the hooks' settings file");
    assertEquals(done.args.slice(-7), [
      "-p",
      "hello",
      "--output-format",
      "stream-json",
      "--verbose",
      "--model",
      "opus",
    ]);
  },
);
