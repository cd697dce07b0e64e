/** The headless launches, waits and limited stand-in the real-client limits tests share. */
import { assertEquals, eventually } from "../helpers/assert.ts";
import { runStratavore } from "../helpers/cli.ts";
import type { RealTest } from "./harness.ts";
import type { RateLimitWindows } from "./messages_api.ts";

export async function launchHeadless(t: RealTest, prompt: string): Promise<number> {
  const launched = await runStratavore(
    ["--json", "launch", t.project, "--detach", "--prompt", prompt],
    { env: t.env, cwd: t.dir },
  );
  assertEquals(launched.code, 0, launched.stderr);
  return JSON.parse(launched.stdout).id as number;
}

export async function ended(t: RealTest, id: number) {
  return await eventually(
    async () => {
      const r = await t.client.getRunner(id);
      return ["stopped", "failed", "killed"].includes(r.state) ? r : undefined;
    },
    60_000,
    `runner ${id} to end`,
  );
}

/** The stand-in's rate-limit figures while the 5-hour window refuses until `reset` (epoch seconds). */
export function fiveHourRejected(
  reset: number,
  weekly: { utilization: number; resetsAt: number },
): RateLimitWindows {
  return {
    status: "rejected",
    representativeClaim: "five_hour",
    fiveHour: { utilization: 1, resetsAt: reset, status: "rejected" },
    sevenDay: weekly,
  };
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** The stand-in refuses (429, rejected) until `reset`, then answers with room to spare. */
export function limitUntil(t: RealTest, reset: number): void {
  const now = Math.floor(Date.now() / 1000);
  t.api.rateLimits = fiveHourRejected(reset, { utilization: 0.5, resetsAt: now + 3 * 86400 });
  t.api.fallback = () => ({ status: 429, errorType: "rate_limit_error", errorMessage: "rate limited" });
  setTimeout(() => {
    t.api.rateLimits = {
      status: "allowed",
      representativeClaim: "five_hour",
      fiveHour: { utilization: 0.01, resetsAt: reset + 5 * 3600 },
      sevenDay: { utilization: 0.5, resetsAt: now + 3 * 86400 },
    };
    t.api.fallback = () => ({ text: "Continued." });
  }, reset * 1000 - Date.now() - 1000);
}
