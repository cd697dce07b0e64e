/** `stratavore watch` driven in a real terminal (tmux): live from the event stream, keys, and a clean exit. */
import { assert, assertEquals, assertMatch } from "../helpers/assert.ts";
import { eachDaemon } from "../helpers/daemon.ts";
import { startTmux } from "../helpers/tmux.ts";
import { MAIN } from "../helpers/env.ts";

/**
 * `stratavore watch` in tmux, between two `stty -a` snapshots of the terminal; `leave` checks the exit code
 * line and that the dashboard is gone and the terminal's modes are as before.
 */
async function watchInTmux(env: Record<string, string>, cols: number, rows: number) {
  const dir = await Deno.makeTempDir();
  const cmd = `stty -a > ${dir}/before; '${Deno.execPath()}' run -A --quiet '${MAIN}' watch; ` +
    `echo "watch-exit=$?"; stty -a > ${dir}/after; sleep 60`;
  const tmux = await startTmux(cmd, { env: { ...env, TERM: "xterm-256color" }, cols, rows });
  return {
    tmux,
    async leave(exitLine: RegExp) {
      const after = await tmux.waitFor(/watch-exit=\d+/);
      assertMatch(after, exitLine);
      assert(!after.includes("stratavore watch ·"), "the dashboard is gone: the normal screen is back");
      await new Promise((r) => setTimeout(r, 300));
      // The terminal's modes are as before (the first line holds the size, which the test may change).
      const modes = async (f: string) =>
        (await Deno.readTextFile(`${dir}/${f}`)).split("\n").slice(1).join("\n");
      assertEquals(await modes("after"), await modes("before"), "stty -a unchanged");
    },
    async close() {
      await tmux.kill();
      await Deno.remove(dir, { recursive: true }).catch(() => {});
    },
  };
}

eachDaemon(
  "watch: shows runners live, reacts to keys, and restores the terminal",
  async ({ daemon, client, env }) => {
    await client.createProject({ name: "alpha", path: "/tmp", maxRunners: 4 });
    const w = await watchInTmux(env, 120, 30);
    const tmux = w.tmux;
    try {
      await tmux.waitFor(/stratavore watch · .* events live/);
      await tmux.waitFor(/alpha\s+0\/4/);

      // A runner launched after watch started appears, from the event stream, within a second.
      const { runner, token } = await client.launch({ project: "alpha" });
      let t0 = Date.now();
      await tmux.waitFor(new RegExp(`${runner.id}\\s+starting`), 5000);
      const appeared = Date.now() - t0;
      const agent = client.withToken(token);
      await agent.started(runner.id, { pid: 4321, host: "h" });
      t0 = Date.now();
      await tmux.waitFor(new RegExp(`${runner.id}\\s+running`), 5000);
      const changed = Date.now() - t0;
      assert(appeared < 1000 && changed < 1000, `updates took ${appeared} ms and ${changed} ms`);
      await tmux.waitFor(/runner\.started\s+alpha\s+runner \d+ running/);

      // Enter shows details; s stops the selected runner through the API.
      await tmux.send("Enter");
      await tmux.waitFor(/host \/ pid:\s+h \/ 4321/);
      await tmux.send("Escape");
      await tmux.send("s");
      await tmux.waitFor(new RegExp(`${runner.id}\\s+stopping`), 5000);
      assertEquals((await client.getRunner(runner.id)).state, "stopping");

      // x asks first; n cancels, x then y kills.
      const second = await client.launch({ project: "alpha" });
      await tmux.waitFor(new RegExp(`${second.runner.id}\\s+starting`), 5000);
      await tmux.send("j");
      await tmux.send("x");
      await tmux.waitFor(new RegExp(`kill runner ${second.runner.id}\\? y to confirm`));
      await tmux.send("n");
      await tmux.waitFor(/kill cancelled/);
      assertEquals((await client.getRunner(second.runner.id)).state, "starting");
      await tmux.send("x");
      await tmux.send("y");
      await tmux.waitFor(new RegExp(`${second.runner.id}\\s+killed`), 5000);

      // A narrow terminal drops columns instead of wrapping.
      await tmux.resize(50, 30);
      const narrow = await tmux.waitFor(/alpha/);
      assert(narrow.split("\n").every((l) => l.length <= 50), narrow);

      await tmux.send("q");
      await w.leave(/watch-exit=0/);
    } finally {
      await w.close();
    }
    assert(daemon.url.length > 0);
  },
  { inProcess: true, subprocesses: true, only: "pglite" },
);

eachDaemon(
  "watch: Ctrl-C leaves it and restores the terminal too",
  async ({ client, env }) => {
    await client.createProject({ name: "beta", path: "/tmp" });
    const w = await watchInTmux(env, 100, 25);
    try {
      await w.tmux.waitFor(/beta\s+0\/5/);
      await w.tmux.send("C-c");
      await w.leave(/watch-exit=(0|130)/);
    } finally {
      await w.close();
    }
  },
  { inProcess: true, subprocesses: true, only: "pglite" },
);
