/** The runner lifecycle: which state may follow which, and the event each arrival emits. */
import type { RunnerState } from "../lib/schemas/runner.ts";

const NEXT: Record<RunnerState, readonly RunnerState[]> = {
  starting: ["running", "stopping", "stopped", "failed", "killed"],
  running: ["stopping", "stopped", "failed", "killed"],
  stopping: ["stopped", "failed", "killed"],
  stopped: [],
  failed: [],
  killed: [],
};

export function canTransition(from: RunnerState, to: RunnerState): boolean {
  return NEXT[from].includes(to);
}

export function isActive(state: RunnerState): boolean {
  return NEXT[state].length > 0;
}

/** The event type announcing arrival in a state. */
export const EVENT_FOR: Record<RunnerState, string> = {
  starting: "runner.launched",
  running: "runner.started",
  stopping: "runner.stopping",
  stopped: "runner.stopped",
  failed: "runner.failed",
  killed: "runner.killed",
};
