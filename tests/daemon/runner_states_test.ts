import { assertEquals } from "../helpers/assert.ts";
import { REPO } from "../helpers/env.ts";
import {
  ACTIVE_SQL,
  ACTIVE_STATES,
  canTransition,
  ENDED_STATES,
  isActive,
  isEnded,
  RUNNER_STATES,
} from "../../lib/runner_states.ts";
import { runnerState } from "../../lib/schemas/runner.ts";

Deno.test("runner states: exactly the lifecycle's transitions are allowed", () => {
  const allowed = new Set([
    "starting>running",
    "starting>stopping",
    "starting>stopped",
    "starting>failed",
    "starting>killed",
    "running>stopping",
    "running>stopped",
    "running>failed",
    "running>killed",
    "stopping>stopped",
    "stopping>failed",
    "stopping>killed",
  ]);
  for (const from of RUNNER_STATES) {
    for (const to of RUNNER_STATES) {
      assertEquals(canTransition(from, to), allowed.has(`${from}>${to}`), `${from} → ${to}`);
    }
  }
  assertEquals(RUNNER_STATES.filter(isActive), ["starting", "running", "stopping"]);
  assertEquals(ACTIVE_STATES, ["starting", "running", "stopping"]);
  assertEquals(ENDED_STATES, ["stopped", "failed", "killed"]);
  assertEquals(RUNNER_STATES.filter(isEnded), ["stopped", "failed", "killed"]);
  assertEquals(ACTIVE_SQL, "('starting', 'running', 'stopping')");
  assertEquals(isActive("waiting"), false, "text that is no state is not active");
  assertEquals(runnerState.options, [...RUNNER_STATES], "the schema takes its states from here");
});

Deno.test("runner states: the active, ended and full lists are spelled only in lib/runner_states.ts", async () => {
  const word = "[\"'](?:starting|running|stopping|stopped|failed|killed)[\"']";
  const list = new RegExp(`${word}(?:\\s*,\\s*${word})+`, "g");
  const shapes = [ACTIVE_STATES, ENDED_STATES, RUNNER_STATES].map((l) => [...l].sort().join());
  const found: string[] = [];
  for (const dir of ["daemon", "agent", "cli", "lib", "web/src"]) {
    for await (const path of sourceFiles(`${REPO}/${dir}`)) {
      if (path.endsWith("/lib/runner_states.ts")) continue;
      const lines = (await Deno.readTextFile(path)).split("\n");
      lines.forEach((line, i) => {
        for (const m of line.matchAll(list)) {
          const states = m[0].split(",").map((w) => w.trim().slice(1, -1)).sort().join();
          if (shapes.includes(states)) found.push(`${path.slice(REPO.length + 1)}:${i + 1}: ${line.trim()}`);
        }
      });
    }
  }
  assertEquals(found, [], "import ACTIVE_STATES, ENDED_STATES, RUNNER_STATES, isActive or isEnded instead");
});

async function* sourceFiles(dir: string): AsyncGenerator<string> {
  for await (const e of Deno.readDir(dir)) {
    const path = `${dir}/${e.name}`;
    if (e.isDirectory) yield* sourceFiles(path);
    else if (/\.ts$/.test(e.name)) yield path;
  }
}
