/** Detached interactive sessions: the agent's pseudo-terminal reached through the real daemon over WebSocket. */
import { assert, assertEquals, assertMatch, eventually } from "../helpers/assert.ts";
import { eachDaemon, startDaemon } from "../helpers/daemon.ts";
import { projectFolder } from "../helpers/agent.ts";
import { attachViewer } from "../helpers/pty.ts";

eachDaemon(
  "attach: type, see the echo, resize, detach; a second attach replays the screen; /exit ends it",
  async (t) => {
    const dir = await projectFolder(t.daemon.home, "tty");
    await t.client.createProject({ name: "tty", path: dir });
    await Deno.writeTextFile(t.planFile, JSON.stringify({ interactive: true, hooks: [] }));
    const { runner } = await t.client.launch({ project: "tty", spawn: true });
    assertEquals(runner.mode, "pty");
    await eventually(
      async () => (await t.client.getRunner(runner.id)).state === "running",
      20_000,
      "running",
    );

    const a = await attachViewer(t.client, runner.id, "rw", "alice");
    await a.waitFor(/> /);
    const hello = a.control.find((m) => m.t === "hello");
    assert(hello && hello.t === "hello" && hello.you === "alice" && !hello.readOnly);
    a.type("hello there\r");
    await a.waitFor(/you said: hello there/);
    a.resize(100, 30);
    await a.waitFor(/size: 100x30/);
    await a.close();
    await new Promise((r) => setTimeout(r, 300));
    assertEquals(
      (await t.client.getRunner(runner.id)).state,
      "running",
      "detaching leaves the session running",
    );

    const b = await attachViewer(t.client, runner.id, "rw", "bob");
    await b.waitFor(/you said: hello there[\s\S]*size: 100x30/, 5000); // replayed from the scrollback
    const ro = await attachViewer(t.client, runner.id, "ro", "carol");
    await ro.waitFor(/you said: hello there/);
    await eventually(
      () => ro.control.some((m) => m.t === "keyboard" && m.holder === "bob" && m.viewers === 2),
      5000,
    );
    ro.type("ignored\r"); // a read-only viewer's keys go nowhere
    b.type("/exit 7\r");
    const end = await b.closed;
    assertEquals(end.code, 1000);
    const exit = b.control.find((m) => m.t === "exit");
    assertEquals(exit && exit.t === "exit" ? exit.code : undefined, 7);
    assert(!b.screen().includes("you said: ignored"), "read-only keys were not delivered");
    await ro.closed;
    const done = await eventually(
      async () => {
        const r = await t.client.getRunner(runner.id);
        return r.state === "failed" ? r : undefined;
      },
      15_000,
      "runner ended",
    );
    assertEquals(done.exitCode, 7);
    const log = await Deno.readTextFile(done.logPath!);
    assertMatch(log, /you said: hello there/);
  },
);

eachDaemon("attach: refused without the admin token, and for runners without a terminal", async (t) => {
  await t.client.createProject({ name: "plain", path: "/tmp" });
  const { runner } = await t.client.launch({ project: "plain" });
  const url = `${t.daemon.url.replace(/^http/, "ws")}/api/v1/runners/${runner.id}/attach`;
  const status = async (headers: Record<string, string>) => {
    const res = await fetch(url.replace(/^ws/, "http"), {
      headers: {
        ...headers,
        upgrade: "websocket",
        connection: "Upgrade",
        "sec-websocket-version": "13",
        "sec-websocket-key": "dGhlIHNhbXBsZSBub25jZQ==",
      },
    });
    const body = await res.json();
    return [res.status, body.error.code];
  };
  assertEquals(await status({}), [401, "unauthorized"]);
  assertEquals(await status({ authorization: "Bearer sv_wrong_token_value" }), [401, "unauthorized"]);
  const [code] = await status({ authorization: `Bearer ${t.daemon.token}` });
  assertEquals(code, 409, "an interactive runner in someone's terminal has nothing to attach to");
}, { only: "pglite" });

eachDaemon(
  "attach: after a daemon restart the agent reconnects and the screen is replayed from its scrollback",
  async (t) => {
    const dir = await projectFolder(t.daemon.home, "again");
    await t.client.createProject({ name: "again", path: dir });
    await Deno.writeTextFile(t.planFile, JSON.stringify({ interactive: true, hooks: [] }));
    const { runner } = await t.client.launch({ project: "again", spawn: true });
    await eventually(async () => (await t.client.getRunner(runner.id)).state === "running", 20_000);
    const a = await attachViewer(t.client, runner.id, "rw", "alice");
    // Not /^> /m: a viewer that attaches before the agent's link has replayed its screen gets that replay
    // as a redraw, the clear-screen sequence and then the prompt on one line.
    await a.waitFor(/> /);
    a.type("before the restart\r");
    await a.waitFor(/you said: before the restart/);
    await t.daemon.stop("SIGTERM");
    await a.closed;
    const second = await t.restart();
    const { StratavoreClient } = await import("../../lib/client.ts");
    const client = new StratavoreClient({ url: second.url, token: second.token });
    const b = await attachViewer(client, runner.id, "rw", "bob");
    await eventually(
      () => b.control.some((m) => m.t === "agent" && m.live) || /before the restart/.test(b.screen()),
      15_000,
    );
    await b.waitFor(/you said: before the restart/, 15_000);
    b.type("/exit 0\r");
    await b.closed;
    await eventually(async () => (await client.getRunner(runner.id)).state === "stopped", 15_000, "stopped");
  },
  { fixedPort: true, only: "pglite" },
);

eachDaemon(
  "attach: through another daemon on the same database, the viewer is told which daemon holds the terminal",
  async (t) => {
    const dir = await projectFolder(t.daemon.home, "far");
    await t.client.createProject({ name: "far", path: dir });
    await Deno.writeTextFile(t.planFile, JSON.stringify({ interactive: true, hooks: [] }));
    const { runner } = await t.client.launch({ project: "far", spawn: true });
    await eventually(
      async () => (await t.client.getRunner(runner.id)).state === "running",
      20_000,
      "running",
    );
    const other = await startDaemon({ databaseUrl: t.databaseUrl });
    try {
      const res = await fetch(`${other.url}/api/v1/runners/${runner.id}/attach?mode=ro`, {
        headers: { authorization: `Bearer ${other.token}`, upgrade: "websocket" },
      });
      const body = await res.json();
      assertEquals([res.status, body.error.code], [409, "conflict"]);
      assertMatch(
        body.error.message,
        new RegExp(`held by the daemon at ${t.daemon.url}.*--url ${t.daemon.url}`),
      );
      // Through its own daemon it attaches as usual.
      const viewer = await attachViewer(t.client, runner.id, "rw", "here");
      await viewer.waitFor(/> /);
      viewer.type("/exit 0\r");
      await viewer.closed;
    } finally {
      await other.stop();
    }
  },
  { only: "postgres" },
);
