/**
 * Stop and kill reach every kind of runner at once over its agent's link: on both databases, through a
 * daemon that did not launch it (two daemons on one PostgreSQL), and when the daemon was away at the time
 * (the agent asks for its runner's state when the daemon returns). Heartbeats are a minute apart here, so
 * nothing but the link can end a session within a second.
 */
import { assert, assertEquals, eventually } from "../helpers/assert.ts";
import { type DaemonTest, eachDaemon, startDaemon } from "../helpers/daemon.ts";
import {
  type AgentProcess,
  cmdlineOf,
  msUntilEnded,
  processEnded,
  projectFolder,
  spawnAgent,
} from "../helpers/agent.ts";
import type { StratavoreClient } from "../../lib/client.ts";
import type { Runner } from "../../lib/schemas/runner.ts";

const SLOW_HEARTBEATS = { STRATAVORE_HEARTBEAT_INTERVAL: "60s", STRATAVORE_HEARTBEAT_TTL: "10m" };
const KINDS = ["interactive", "headless", "pty"] as const;
type Kind = typeof KINDS[number];
/** The pids of the sessions started by the running test. */
const sessions: number[] = [];

/**
 * A `sleep 600` runner of one kind in its own project (whose command is `sleep` with default argument 600):
 * the agent in the foreground, or detached (headless with a prompt, which sleep takes as one more number,
 * or in a terminal). Resolves once it runs.
 */
async function sleeper(
  t: DaemonTest,
  kind: Kind,
  project: string,
  agents: AgentProcess[],
): Promise<{ runner: Runner; agent?: AgentProcess }> {
  const dir = await projectFolder(t.daemon.home, project);
  await t.client.createProject({ name: project, path: dir, command: "sleep", commandArgs: ["600"] });
  let agent: AgentProcess | undefined;
  if (kind === "interactive") {
    agent = spawnAgent(["agent", "--project", project, "--", "sleep", "600"], {
      env: { ...t.env, ...SLOW_HEARTBEATS },
      cwd: dir,
    });
    agents.push(agent);
  } else {
    await t.client.launch({ project, spawn: true, ...(kind === "headless" ? { prompt: "1" } : {}) });
  }
  const runner = await eventually(
    async () => {
      const [r] = await t.client.listRunners({ project });
      return r?.state === "running" && r.pid ? r : undefined;
    },
    30_000,
    `the ${kind} runner of ${project} running`,
  );
  sessions.push(runner.pid!);
  return { runner, agent };
}

/** Stops or kills each runner through `via`, one at a time, and returns how long each process took to end. */
async function endEach(
  via: StratavoreClient,
  runners: { runner: Runner; verb: "stop" | "kill"; label: string }[],
): Promise<string[]> {
  const took: string[] = [];
  for (const { runner, verb, label } of runners) {
    const t0 = performance.now();
    if (verb === "stop") await via.stopRunner(runner.id, "test stop");
    else await via.killRunner(runner.id, "test kill");
    const ms = await msUntilEnded(runner.pid!, t0, 15_000);
    took.push(`${label} ${verb}: ${ms.toFixed(0)} ms`);
  }
  return took;
}

async function finalStates(client: StratavoreClient, runners: { runner: Runner; verb: "stop" | "kill" }[]) {
  for (const { runner, verb } of runners) {
    const done = await eventually(
      async () => {
        const r = await client.getRunner(runner.id);
        return r.state !== "running" && r.state !== "stopping" ? r : undefined;
      },
      15_000,
      `runner ${runner.id} ended`,
    );
    assertEquals(done.state, verb === "stop" ? "stopped" : "killed", `runner ${runner.id} (${verb})`);
    if (verb === "stop") assertEquals(done.exitCode, 143, "sleep ended by the polite SIGTERM");
  }
}

/** Leaves nothing behind when a test failed: the agents, and the sessions (which do not name the home). */
function endAll(agents: AgentProcess[]): void {
  for (const a of agents) {
    try {
      a.process.kill("SIGKILL");
    } catch { /* already ended, as it should have */ }
  }
  for (const pid of sessions.splice(0)) {
    try {
      // Still our sleep (not a process that took its pid since)?
      if (!processEnded(pid) && cmdlineOf(pid).join(" ").includes("sleep 600")) Deno.kill(pid, "SIGKILL");
    } catch { /* ended meanwhile */ }
  }
}

function assertWithinASecond(took: string[]): void {
  const slow = took.filter((line) => Number(/: (\d+) ms$/.exec(line)![1]) >= 1000);
  assertEquals(slow, [], `every session ends within 1 s of the call (${took.join(", ")})`);
}

eachDaemon("link: stop and kill end each kind of runner's process within 1 s", async (t) => {
  const agents: AgentProcess[] = [];
  try {
    const plan = KINDS.flatMap((kind) => (["stop", "kill"] as const).map((verb) => ({ kind, verb })));
    const runners = await Promise.all(plan.map(async ({ kind, verb }) => ({
      ...await sleeper(t, kind, `${kind}-${verb}`, agents),
      verb,
      label: kind,
    })));
    for (const { runner } of runners) assert(!processEnded(runner.pid!), `runner ${runner.id} runs`);
    assertWithinASecond(await endEach(t.client, runners));
    await finalStates(t.client, runners);
    for (const { agent, verb } of runners) {
      if (agent) {
        assertEquals((await agent.done).code, verb === "stop" ? 143 : 137, `the agent after ${verb}`);
      }
    }
  } finally {
    endAll(agents);
  }
}, { env: SLOW_HEARTBEATS });

eachDaemon(
  "link: with two daemons on one PostgreSQL, stop and kill sent to the other daemon end each kind within 1 s",
  async (t) => {
    // The second daemon has a home of its own: it shares only the database with the first.
    const other = await startDaemon({ databaseUrl: t.databaseUrl, env: SLOW_HEARTBEATS });
    const agents: AgentProcess[] = [];
    try {
      const { StratavoreClient } = await import("../../lib/client.ts");
      const via = new StratavoreClient({ url: other.url, token: other.token });
      const plan = KINDS.flatMap((kind) => (["stop", "kill"] as const).map((verb) => ({ kind, verb })));
      const runners = await Promise.all(plan.map(async ({ kind, verb }) => ({
        ...await sleeper(t, kind, `${kind}-${verb}`, agents),
        verb,
        label: kind,
      })));
      assertWithinASecond(await endEach(via, runners));
      await finalStates(via, runners);
      assert(
        other.logs().every((l) => !l.includes('"agent linked"')),
        "the agents were linked to the first daemon only",
      );
    } finally {
      endAll(agents);
      await other.stop();
    }
  },
  { only: "postgres", env: SLOW_HEARTBEATS },
);

eachDaemon(
  "link: a runner killed or stopped while its daemon was away ends when the daemon returns",
  async (t) => {
    const agents: AgentProcess[] = [];
    try {
      const runners = [
        { ...await sleeper(t, "interactive", "gone-kill", agents), verb: "kill" as const },
        { ...await sleeper(t, "headless", "gone-kill-bg", agents), verb: "kill" as const },
        { ...await sleeper(t, "pty", "gone-stop", agents), verb: "stop" as const },
      ];
      await t.daemon.stop("SIGKILL");
      // Another daemon on the same data at another address: the agents cannot reach it, so they miss these.
      const elsewhere = await t.restart({ env: { STRATAVORE_LISTEN: "127.0.0.1:0" } });
      assert(elsewhere.url !== t.daemon.url, "a different address");
      const { StratavoreClient } = await import("../../lib/client.ts");
      const client = new StratavoreClient({ url: elsewhere.url, token: elsewhere.token });
      for (const { runner, verb } of runners) {
        if (verb === "kill") await client.killRunner(runner.id, "killed while away");
        else await client.stopRunner(runner.id, "stopped while away");
      }
      await elsewhere.stop();
      for (const { runner } of runners) {
        assert(!processEnded(runner.pid!), `runner ${runner.id} still runs: no daemon has told its agent`);
      }

      // The daemon is back where the agents look for it: each asks for its runner's state and acts on it.
      const back = await t.restart();
      assertEquals(back.url, t.daemon.url);
      const since = performance.now();
      for (const { runner } of runners) await msUntilEnded(runner.pid!, since, 20_000);
      const backClient = new StratavoreClient({ url: back.url, token: back.token });
      await finalStates(backClient, runners);
      assertEquals(
        (await runners[0].agent!.done).code,
        137,
        "the interactive agent exits as its command did",
      );
    } finally {
      endAll(agents);
    }
  },
  { fixedPort: true, env: SLOW_HEARTBEATS },
);

eachDaemon(
  "link: another installation's daemon at the same address does not end the sessions; their own, back, does",
  async (t) => {
    const agents: AgentProcess[] = [];
    const stranger = await Deno.makeTempDir({ prefix: "stratavore-stranger-" });
    try {
      const runners = [
        { ...await sleeper(t, "interactive", "kept-fg", agents), verb: "stop" as const },
        { ...await sleeper(t, "headless", "kept-bg", agents), verb: "kill" as const },
      ];
      await t.daemon.stop("SIGKILL");
      // Another Stratavore (its own home and database) takes the address: it refuses these runners' tokens.
      const foreign = await startDaemon({
        home: stranger,
        keepHome: true,
        env: { ...SLOW_HEARTBEATS, STRATAVORE_LISTEN: new URL(t.daemon.url).host },
      });
      try {
        assertEquals(foreign.url, t.daemon.url);
        // Within 3 s each agent's link tries again and is refused there (401), so the agent asks at once
        // with a heartbeat, which is refused too.
        await new Promise((r) => setTimeout(r, 6000));
        for (const { runner } of runners) {
          assert(
            !processEnded(runner.pid!),
            `runner ${runner.id} was ended by a daemon it does not belong to`,
          );
        }
      } finally {
        await foreign.stop();
      }
      const back = await t.restart();
      assertEquals(back.url, t.daemon.url);
      const { StratavoreClient } = await import("../../lib/client.ts");
      const client = new StratavoreClient({ url: back.url, token: back.token });
      const since = performance.now();
      for (const { runner, verb } of runners) {
        if (verb === "kill") await client.killRunner(runner.id, "test kill");
        else await client.stopRunner(runner.id, "test stop");
      }
      for (const { runner } of runners) await msUntilEnded(runner.pid!, since, 20_000);
      await finalStates(client, runners);
    } finally {
      endAll(agents);
      await Deno.remove(stranger, { recursive: true }).catch(() => {});
    }
  },
  { fixedPort: true, env: SLOW_HEARTBEATS },
);
