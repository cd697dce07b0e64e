/**
 * A detached agent runs its own module (agent/detached.ts: no config, no CLI) with its own V8 flags
 * (lib/self.ts AGENT_V8_FLAGS: --lite-mode, for its RSS) and still does its job under them: the session starts, heartbeats arrive, a kill ends it.
 */
import { assert, eventually } from "../helpers/assert.ts";
import { eachDaemon } from "../helpers/daemon.ts";
import { cmdlineOf, processEnded, projectFolder } from "../helpers/agent.ts";
import { AGENT_V8_FLAGS, detachedAgentCommand } from "../../lib/self.ts";

Deno.test("detachedAgentCommand: under deno run the agent's own module runs, with its V8 flags", () => {
  const argv = detachedAgentCommand();
  assert(argv.at(-1)?.replaceAll("\\", "/").endsWith("agent/detached.ts"), argv.join(" "));
  const flags = argv.find((a) => a.startsWith("--v8-flags="));
  for (const f of AGENT_V8_FLAGS) assert(flags?.split(/[=,]/).includes(f), `${f} in ${argv.join(" ")}`);
  // Neither the project's config (workspace, lockfile, npm resolver) nor V8's code cache: ~2.4 MB of its RSS.
  for (const f of ["--no-config", "--no-code-cache"]) assert(argv.includes(f), `${f} in ${argv.join(" ")}`);
  const map = argv.find((a) => a.startsWith("--import-map="));
  assert(map?.replaceAll("\\", "/").endsWith("/deno.json"), `deno.json is its import map: ${argv.join(" ")}`);
});

eachDaemon("a detached agent runs with AGENT_V8_FLAGS, heartbeats and ends on a kill", async (t) => {
  const dir = await projectFolder(t.daemon.home, "lite");
  await t.client.createProject({ name: "lite", path: dir });
  await Deno.writeTextFile(t.planFile, JSON.stringify({ turns: [{}], hooks: [], sleepMs: 120_000 }));
  const { runner } = await t.client.launch({ project: "lite", spawn: true, prompt: "hello" });
  const r = await eventually(
    async () => {
      const r = await t.client.getRunner(runner.id);
      if (r.state !== "starting" && r.state !== "running") {
        throw new Error(`runner is ${r.state}: ${r.reason}`);
      }
      return r.state === "running" && r.pid && r.heartbeatCount >= 1 ? r : undefined;
    },
    30_000,
    "the detached runner running and heartbeating",
  );
  // The session's parent is the agent.
  const stat = Deno.readTextFileSync(`/proc/${r.pid}/stat`);
  const agentPid = Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]);
  const argv = cmdlineOf(agentPid);
  assert(
    argv.some((a) => a.replaceAll("\\", "/").endsWith("agent/detached.ts")),
    `the session's parent is the detached agent: ${argv.join(" ")}`,
  );
  const flags = argv.find((a) => a.startsWith("--v8-flags="));
  for (const f of AGENT_V8_FLAGS) assert(flags?.split(/[=,]/).includes(f), `${f} in ${argv.join(" ")}`);
  await t.client.killRunner(r.id);
  await eventually(() => processEnded(agentPid) || undefined, 30_000, "the agent ended after the kill");
}, { only: "pglite" });
