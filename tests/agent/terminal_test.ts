/** `stratavore launch` in a real terminal (tmux): the wrapped command owns the keyboard and the screen. */
import { assertEquals, eventually } from "../helpers/assert.ts";
import { eachDaemon } from "../helpers/daemon.ts";
import { projectFolder } from "../helpers/agent.ts";
import { startTmux } from "../helpers/tmux.ts";
import { MAIN } from "../helpers/env.ts";

eachDaemon("launch: interactive in a terminal; keys reach the session, Ctrl-C reaches it once", async (t) => {
  const dir = await projectFolder(t.daemon.home, "tty");
  await t.client.createProject({ name: "tty", path: dir });
  const plan = JSON.stringify({ interactive: true, hooks: [] });
  const env = { ...t.env, FAKE_CLAUDE_PLAN: plan, NO_COLOR: "1" };
  const tmux = await startTmux(
    `'${Deno.execPath()}' run -A --quiet '${MAIN}' launch tty; echo "agent-exit=$?"; sleep 30`,
    {
      env,
      cwd: dir,
    },
  );
  try {
    await tmux.waitFor(/^>/m);
    await tmux.send("hello there", "Enter");
    await tmux.waitFor(/you said: hello there/);
    const [running] = await t.client.listRunners({ project: "tty" });
    assertEquals(running.state, "running");
    await tmux.send("C-c");
    const screen = await tmux.waitFor(/agent-exit=\d+/);
    assertEquals(/agent-exit=(\d+)/.exec(screen)?.[1], "130", screen);
    const done = await eventually(async () => {
      const [r] = await t.client.listRunners({ project: "tty", all: true });
      return r.state !== "running" ? r : undefined;
    });
    assertEquals([done.state, done.exitCode], ["failed", 130]);
    // The terminal delivered Ctrl-C to the whole process group; the agent must not send a second one.
    const agentLog = await Deno.readTextFile(`${t.daemon.home}/logs/${done.id}.agent.log`);
    assertEquals(agentLog.includes("passing a signal"), false, agentLog);
  } finally {
    await tmux.kill();
  }
}, { only: "pglite" });
