/** Reporting the end of the command, retried for a while: a daemon restart must not lose the verdict. */
import { ApiError, type RunnerClient } from "../lib/runner_client.ts";
import type { Logger } from "../lib/log.ts";
import type { ExitedRequest } from "../lib/schemas/runner.ts";

export async function reportExit(
  client: RunnerClient,
  runnerId: number,
  body: ExitedRequest,
  log: Logger,
  attempts = 8,
): Promise<boolean> {
  for (let i = 0; i < attempts; i++) {
    try {
      await client.exited(runnerId, body);
      return true;
    } catch (e) {
      if (e instanceof ApiError && e.httpStatus < 500) {
        log.warn("the daemon refused the exit report", { error: e.message });
        return false;
      }
      if (i === attempts - 1) {
        log.error(
          "could not report the exit; the daemon will mark the runner failed after its heartbeat TTL",
          {
            error: (e as Error).message,
          },
        );
        return false;
      }
      await new Promise((r) => setTimeout(r, Math.min(8000, 500 * 2 ** i)));
    }
  }
  return false;
}
