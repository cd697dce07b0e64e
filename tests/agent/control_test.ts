/** agent/control.ts: each action is taken once, a kill overrides a stop, and early news waits for the command. */
import { assertEquals } from "../helpers/assert.ts";
import { SessionControl } from "../../agent/control.ts";
import type { ExitStatus, RunningCommand } from "../../agent/child.ts";
import { log } from "../../lib/log.ts";

function fakeCommand(calls: string[]): RunningCommand {
  return {
    pid: 1,
    status: new Promise<ExitStatus>(() => {}),
    exited: false,
    signal: (sig) => void calls.push(`signal ${sig}`),
    killTree: (force) => Promise.resolve(void calls.push(`killTree ${force}`)),
    stop: (grace) => {
      calls.push(`stop ${grace}`);
      return new Promise<ExitStatus>(() => {});
    },
  };
}

const quiet = log.child({ test: "control" });

Deno.test("control: a stop is taken once; a kill still ends the tree during it", () => {
  const calls: string[] = [];
  const hooks: string[] = [];
  const c = new SessionControl(500, quiet, {
    onEnded: () => hooks.push("ended"),
    onDetach: () => hooks.push("detach"),
  });
  c.attach(fakeCommand(calls));
  c.act({ do: "continue", ended: false, why: "" }, "heartbeat");
  c.act({ do: "stop", ended: false, why: "stop requested" }, "link");
  c.act({ do: "stop", ended: false, why: "stop requested" }, "heartbeat");
  c.act({ do: "kill", ended: true, why: "killed" }, "link");
  c.act({ do: "kill", ended: true, why: "killed" }, "heartbeat");
  c.act({ do: "detach", ended: true, why: "failed" }, "heartbeat");
  assertEquals(calls, ["stop 500", "killTree true"]);
  assertEquals(hooks, ["ended", "ended", "ended"]);
  assertEquals([c.done, c.ended], ["kill", true]);
});

Deno.test("control: what arrives before the command runs is acted on when it does, a kill first", () => {
  const calls: string[] = [];
  const hooks: string[] = [];
  const c = new SessionControl(500, quiet, { onEnded: () => {}, onDetach: () => hooks.push("detach") });
  c.act({ do: "stop", ended: false, why: "stop requested" }, "link");
  c.act({ do: "kill", ended: true, why: "killed" }, "start report");
  c.act({ do: "stop", ended: false, why: "stop requested" }, "link");
  assertEquals(calls, []);
  c.attach(fakeCommand(calls));
  assertEquals(calls, ["killTree true"]);

  const d = new SessionControl(500, quiet, { onEnded: () => {}, onDetach: () => hooks.push("detach") });
  d.attach(fakeCommand([]));
  d.act({ do: "detach", ended: true, why: "failed" }, "heartbeat");
  d.act({ do: "detach", ended: true, why: "failed" }, "link");
  assertEquals(hooks, ["detach"], "detached once; the session goes on");
});
