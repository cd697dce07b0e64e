/** agent/verdict.ts: every way the daemon speaks of a runner, mapped to what the agent does. */
import { assertEquals } from "../helpers/assert.ts";
import { ApiError } from "../../lib/client.ts";
import { fromError, fromState } from "../../agent/verdict.ts";

const pick = (a: { do: string; ended: boolean } | undefined) => a && [a.do, a.ended];

Deno.test("verdict: the runner's state", () => {
  assertEquals(pick(fromState("running")), ["continue", false]);
  assertEquals(pick(fromState("running", true)), ["stop", false]);
  assertEquals(pick(fromState("stopping")), ["stop", false]);
  assertEquals(pick(fromState("stopped")), ["stop", true]);
  assertEquals(pick(fromState("killed")), ["kill", true]);
  assertEquals(pick(fromState("gone")), ["kill", true]);
  // Failed by the reconciler while out of reach: the session is the user's, it goes on unreported.
  assertEquals(pick(fromState("failed")), ["detach", true]);
  assertEquals(fromState("killed", false, "runaway").why, "the runner was killed (runaway)");
});

Deno.test("verdict: refusals that say the runner ended, and errors that say nothing about it", () => {
  const ended = (state?: string) =>
    new ApiError("runner_not_active", "runner 1 is …", 409, state ? { state, reason: null } : undefined);
  assertEquals(pick(fromError(ended("killed"), true)), ["kill", true]);
  assertEquals(pick(fromError(ended("stopped"), true)), ["stop", true]);
  assertEquals(pick(fromError(ended("failed"), true)), ["detach", true]);
  assertEquals(pick(fromError(ended(), true)), ["stop", true], "no state said: the gentle reading");
  assertEquals(pick(fromError(new ApiError("runner_ended", "ended", 401, { state: "killed" }), true)), [
    "kill",
    true,
  ]);
  assertEquals(pick(fromError(new ApiError("not_found", "no runner 1", 404), true)), ["kill", true]);

  const revoked = new ApiError("unauthorized", "invalid token for runner 1", 401);
  assertEquals(pick(fromError(revoked, true)), ["stop", true], "a token that worked, now refused");
  assertEquals(fromError(revoked, false), undefined, "a token that never worked is a wrong token");
  const replayed = new ApiError("unauthorized", "a heartbeat was replayed", 401, { signature: "replayed" });
  assertEquals(fromError(replayed, true), undefined, "a refused signature is not a refused token");

  assertEquals(fromError(new ApiError("internal", "bug", 500), true), undefined);
  assertEquals(fromError(new Error("connection refused"), true), undefined);
});
