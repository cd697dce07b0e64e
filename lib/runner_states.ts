/**
 * The runner lifecycle in one place, for the schemas, the daemon's store and routes, the agent, the CLI and
 * the web: the states, which may follow which, which are active (a runner that can still end: it holds a
 * quota slot), and the event each arrival emits. No zod here, so the web bundle imports it as it is.
 */
export const RUNNER_STATES = ["starting", "running", "stopping", "stopped", "failed", "killed"] as const;
export type RunnerState = typeof RUNNER_STATES[number];

const NEXT: Record<RunnerState, readonly RunnerState[]> = {
  starting: ["running", "stopping", "stopped", "failed", "killed"],
  running: ["stopping", "stopped", "failed", "killed"],
  stopping: ["stopped", "failed", "killed"],
  stopped: [],
  failed: [],
  killed: [],
};

/** The states a runner leaves again. */
export const ACTIVE_STATES: readonly RunnerState[] = RUNNER_STATES.filter((s) => NEXT[s].length > 0);
/** The final states. */
export const ENDED_STATES: readonly RunnerState[] = RUNNER_STATES.filter((s) => NEXT[s].length === 0);

/** For SQL: `state IN ${ACTIVE_SQL}`. */
export const ACTIVE_SQL = `(${ACTIVE_STATES.map((s) => `'${s}'`).join(", ")})`;

export function canTransition(from: RunnerState, to: RunnerState): boolean {
  return NEXT[from].includes(to);
}

/** Also takes the state as untyped text (an event payload, a row), which is active only when it is one. */
export function isActive(state: RunnerState | string): boolean {
  return (ACTIVE_STATES as readonly string[]).includes(state);
}

export function isEnded(state: RunnerState | string): boolean {
  return (ENDED_STATES as readonly string[]).includes(state);
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
