import { assertEquals } from "../helpers/assert.ts";
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
