/** `stratavore attach` and `launch --attach` in a real terminal (tmux): keys, detach key, a sane terminal after. */
import { assert, assertEquals, assertMatch, eventually } from "../helpers/assert.ts";
import { eachDaemon } from "../helpers/daemon.ts";
import { projectFolder } from "../helpers/agent.ts";
import { startTmux } from "../helpers/tmux.ts";
import { MAIN } from "../helpers/env.ts";

const STRATAVORE = `'${Deno.execPath()}' run -A --quiet '${MAIN}'`;

eachDaemon("attach: type in tmux, detach with Ctrl-], the shell is back and stty is unchanged", async (t) => {
  const dir = await projectFolder(t.daemon.home, "tm");
  await t.client.createProject({ name: "tm", path: dir });
  await Deno.writeTextFile(t.planFile, JSON.stringify({ interactive: true, hooks: [] }));
  const { runner } = await t.client.launch({ project: "tm", spawn: true });
  await eventually(async () => (await t.client.getRunner(runner.id)).state === "running", 20_000);
  const files = await Deno.makeTempDir();
  const tmux = await startTmux(
    `stty -a > ${files}/before; ${STRATAVORE} attach ${runner.id}; echo "attach-exit=$?"; stty -a > ${files}/after; sleep 60`,
    { env: t.env, cols: 100, rows: 30 },
  );
  try {
    await tmux.waitFor(/^>/m);
    await tmux.send("hello from tmux", "Enter");
    await tmux.waitFor(/you said: hello from tmux/);
    await tmux.send("C-]");
    const screen = await tmux.waitFor(/attach-exit=\d+/);
    assertMatch(screen, new RegExp(`detached from runner ${runner.id}; it keeps running`));
    assertMatch(screen, /attach-exit=0/);
    await new Promise((r) => setTimeout(r, 300));
    const modes = async (f: string) =>
      (await Deno.readTextFile(`${files}/${f}`)).split("\n").slice(1).join("\n");
    assertEquals(await modes("after"), await modes("before"), "the terminal's modes are restored");
    assertEquals((await t.client.getRunner(runner.id)).state, "running");
  } finally {
    await tmux.kill();
    await Deno.remove(files, { recursive: true }).catch(() => {});
    await t.client.killRunner(runner.id).catch(() => {});
  }
}, { only: "pglite" });

eachDaemon(
  "launch --attach: starts a detached session and attaches; the exit code is printed at the end",
  async (t) => {
    const dir = await projectFolder(t.daemon.home, "la");
    await t.client.createProject({ name: "la", path: dir });
    await Deno.writeTextFile(t.planFile, JSON.stringify({ interactive: true, hooks: [] }));
    const tmux = await startTmux(`${STRATAVORE} launch la --attach; echo "launch-exit=$?"; sleep 60`, {
      env: t.env,
      cols: 100,
      rows: 30,
    });
    try {
      await tmux.waitFor(/^>/m, 20_000);
      await tmux.send("/exit 3", "Enter");
      const screen = await tmux.waitFor(/launch-exit=\d+/, 15_000);
      assertMatch(screen, /\[stratavore: runner \d+ ended, exit code 3\]/);
      assertMatch(screen, /launch-exit=3/, "the session's exit code is launch --attach's");
      const [r] = await eventually(async () => {
        const list = await t.client.listRunners({ project: "la", all: true });
        return list[0]?.state === "failed" ? list : undefined;
      }, 10_000);
      assert(r.mode === "pty" && r.exitCode === 3);
    } finally {
      await tmux.kill();
    }
  },
  { only: "pglite" },
);
