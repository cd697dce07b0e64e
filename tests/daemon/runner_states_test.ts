import { assertEquals } from "../helpers/assert.ts";
import { canTransition, isActive } from "../../daemon/runner_states.ts";
import { RUNNER_STATES } from "../../lib/schemas/runner.ts";

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
});
