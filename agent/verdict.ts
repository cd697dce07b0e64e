/**
 * What the agent does about its runner, whichever way the daemon said it: the link's state message or
 * command, a heartbeat's answer, or a refusal (an ended runner's 409, a deleted runner's 404, a revoked
 * token's 401). The one place that reads those answers, so a new one is taught here once.
 */
import { ApiError } from "../lib/runner_client.ts";
import type { RunnerState } from "../lib/schemas/runner.ts";

export interface Action {
  /**
   * continue: nothing to do. stop: ask the command to stop, end its tree after the grace period. kill: end
   * its tree now. detach: the daemon no longer tracks the runner (failed by the reconciler while it was
   * out of reach): the session goes on, unreported.
   */
  do: "continue" | "stop" | "kill" | "detach";
  /** The runner has ended in the daemon's eyes: reports are refused, so the agent stops sending them. */
  ended: boolean;
  why: string;
}

const CONTINUE: Action = { do: "continue", ended: false, why: "" };

/** Error codes that mean "this runner has ended" (their details may carry its state). */
const ENDED_CODES = new Set(["runner_not_active", "runner_ended"]);

export function fromState(
  state: RunnerState | "gone",
  stopRequested = false,
  reason: string | null = null,
): Action {
  const because = reason ? ` (${reason})` : "";
  switch (state) {
    case "starting":
    case "running":
      return stopRequested ? { do: "stop", ended: false, why: `stop requested${because}` } : CONTINUE;
    case "stopping":
      return { do: "stop", ended: false, why: `stop requested${because}` };
    case "stopped":
      return { do: "stop", ended: true, why: `the runner is stopped${because}` };
    case "killed":
      return { do: "kill", ended: true, why: `the runner was killed${because}` };
    case "gone":
      return { do: "kill", ended: true, why: "the runner no longer exists (deleted)" };
    case "failed":
      return { do: "detach", ended: true, why: `the daemon marked the runner failed${because}` };
  }
}

/**
 * The action an error from the daemon calls for, or undefined when it says nothing about the runner (the
 * daemon is unreachable, a 5xx, a bad request): then the agent carries on and retries. A 401 counts only
 * once the token has worked: a token that never did is a wrong token, not a revoked one.
 */
export function fromError(e: unknown, tokenWorked: boolean): Action | undefined {
  if (!(e instanceof ApiError)) return undefined;
  if (e.apiCode === "not_found") return fromState("gone");
  if (ENDED_CODES.has(e.apiCode)) {
    const details = e.details as { state?: RunnerState; reason?: string | null } | undefined;
    // An ended runner whose state is not said: stopping is the gentle reading of it.
    const state = details?.state ?? "stopped";
    const action = fromState(state, false, details?.reason ?? null);
    return { ...action, ended: true };
  }
  // A heartbeat's signature refused (a clock off by minutes, a replay) is not the token refused.
  const signature = (e.details as { signature?: unknown } | undefined)?.signature;
  if (e.httpStatus === 401 && tokenWorked && signature === undefined) {
    return {
      do: "stop",
      ended: true,
      why: "the daemon no longer accepts this runner's token (it is revoked once the runner has ended)",
    };
  }
  return undefined;
}
