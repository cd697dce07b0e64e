/**
 * Claude Code's hooks, posted straight to the daemon (`http` hooks; no process per event):
 * - `POST /api/v1/runners/:id/claude-hook` (the runner's token): the sessions a runner started;
 * - answered with what the hook may decide: a PermissionRequest waits for a remote answer when the project
 *   allows one (the dialog is on screen meanwhile), a UserPromptSubmit under an exhausted `block` budget
 *   is refused.
 * And the approvals: `GET /api/v1/runners/:id/permissions`, `POST /api/v1/runners/:id/permission` (admin).
 */
import type { Context } from "hono";
import { blockPrompt, permissionDecision } from "../../lib/claude/hooks.ts";
import { type HookInput, hookInputSchema } from "../../lib/schemas/hook_input.ts";
import { runnerIdText } from "../../lib/schemas/common.ts";
import { permissionAnswer } from "../../lib/schemas/runner.ts";
import { isActive } from "../../lib/runner_states.ts";
import { readBody, readParam } from "../http/body.ts";
import { actorName, type AppEnv } from "../http/types.ts";
import { type Route, Routes } from "../http/route.ts";
import type { Services } from "../services.ts";
import type { PermissionWaiters } from "../permissions.ts";
import type { ArrivalOrder, Place } from "../hook_order.ts";
import { answerFromAnywhere } from "../approvals.ts";
import { recordHook, SETTLES_PERMISSIONS } from "../store/activity.ts";
import { listPermissions, openPermissionRequest, settleInTerminal } from "../store/permissions.ts";
import { touchSession } from "../store/usage.ts";
import { blockingBudget } from "../store/budget_enforce.ts";
import { getRunner, hookFacts } from "../store/runners.ts";
import { createObserverToken, endObserved, observedRunner, revokeObserverToken } from "../store/observed.ts";
import { z } from "zod";
import {
  accountOf,
  configDirOfTranscript,
  isLimitError,
  readTail,
  type Refusal,
  refusalInMessage,
  refusalInTranscript,
} from "../../lib/claude/limits.ts";
import type { LimitsReport } from "../../lib/schemas/limits.ts";
import { markLimitedByHook, recordLimits } from "../store/limits.ts";

export interface ClaudeHookDeps {
  waiters: PermissionWaiters;
  /** Each runner's hooks are recorded one at a time, in the order they arrived. */
  order: ArrivalOrder;
}

/**
 * Handles one hook of a runner's session and returns Claude Code's answer. Shared by the runner endpoint
 * and the observed-session endpoint (which first finds or creates the observed runner). The hook is
 * recorded at its `place` in the runner's line, which is left before any wait for a remote answer.
 */
export async function handleHook(
  s: Services,
  deps: ClaudeHookDeps,
  runnerId: number,
  input: HookInput,
  signal: AbortSignal,
  place: Place,
): Promise<Record<string, unknown>> {
  await place.turn;
  const recorded = await recordInTurn(s, runnerId, input).finally(() => place.leave());
  if (!recorded) return {};
  const { facts, permission } = recorded;
  if (permission?.remote) {
    const answered = await deps.waiters.wait(permission.id, runnerId, facts.timeoutSeconds * 1000, signal);
    if (answered?.status === "allowed") return permissionDecision("allow");
    if (answered?.status === "denied") {
      return permissionDecision(
        "deny",
        answered.message ?? `denied by ${answered.answeredBy ?? "Stratavore"}`,
      );
    }
    return {}; // no decision: the dialog stays the terminal's
  }
  if (input.hook_event_name === "UserPromptSubmit") {
    const reason = await blockingBudget(s.db, facts, Date.now());
    if (reason) return blockPrompt(reason);
  }
  return {};
}

/** The hook's effects on the runner, in one transaction; undefined for a runner that is gone. */
async function recordInTurn(s: Services, runnerId: number, input: HookInput) {
  const facts = await hookFacts(s.db, runnerId);
  if (!facts) return undefined;
  const event = input.hook_event_name;
  const refused = event === "StopFailure" && isLimitError(input.error)
    ? await refusalReport(input, s.env)
    : undefined;
  const permission = await s.db.transaction(async (tx) => {
    const runner = await recordHook(tx, runnerId, input);
    if (!isActive(runner.state)) return undefined;
    await touchSession(
      tx,
      input.session_id,
      { id: runnerId, projectId: facts.projectId, cwd: facts.cwd },
      true,
    );
    if (SETTLES_PERMISSIONS.has(event)) await settleInTerminal(tx, runnerId);
    // A turn refused for the usage limit: the runner is limited until the window resets (the window and
    // reset its transcript records, else the refusing or fullest window known for its account).
    if (refused) {
      await recordLimits(tx, refused, { runnerId, thresholds: s.config.limitAlerts });
    } else if (event === "StopFailure" && isLimitError(input.error)) await markLimitedByHook(tx, runnerId);
    if (event !== "PermissionRequest" || facts.approvals === "off") return undefined;
    return await openPermissionRequest(tx, runnerId, input, {
      remote: facts.approvals === "remote",
      timeoutSeconds: facts.timeoutSeconds,
      daemonId: s.daemonId,
    });
  });
  return { facts, permission };
}

/**
 * What a StopFailure for the usage limit says of the window: read from the session's transcript when this
 * machine can read it (the refused request's exact window and reset), else from Claude Code's message when
 * it shows the reset in UTC; the account is the session's config folder's (its login, else the folder).
 */
async function refusalReport(
  input: HookInput,
  env: Record<string, string>,
): Promise<LimitsReport | undefined> {
  const path = input.transcript_path;
  // Claude Code runs the hook before it writes the refused turn to the transcript: wait for it, briefly.
  let fromTranscript: Refusal | undefined;
  for (let i = 0; path && i < 15 && !fromTranscript; i++) {
    if (i > 0) await new Promise((r) => setTimeout(r, 100));
    const tail = await readTail(path);
    if (tail === undefined) break; // not readable from here (another machine's session)
    fromTranscript = refusalInTranscript(tail);
  }
  const r = fromTranscript ?? refusalInMessage(input.last_assistant_message);
  const configDir = path ? configDirOfTranscript(path) : undefined;
  if (!r || !configDir) return undefined;
  const home = env.HOME ?? env.USERPROFILE ?? ".";
  const account = await accountOf({ CLAUDE_CONFIG_DIR: configDir }, home);
  return {
    source: "hook",
    account,
    sessionId: input.session_id,
    status: "rejected",
    representative: r.window,
    windows: { [r.window]: { utilization: 1, resetsAt: r.resetsAt, status: "rejected" } },
  };
}

export function claudeHookRoutes(s: Services, deps: ClaudeHookDeps): Route[] {
  const app = new Routes("/runners");

  // A PermissionRequest may wait minutes for an answer from elsewhere.
  app.post("/:id/claude-hook", { auth: "runner", longLived: true, audit: "report" }, async (c) => {
    const id = readParam("runner id", c.req.param("id"), runnerIdText);
    const input = await readBody(c, hookInputSchema, { watchesClient: true });
    // In line once the whole hook is here: a client stalling its body must not hold the runner's hooks.
    const place = deps.order.enter(id);
    try {
      return c.json(await handleHook(s, deps, id, input, c.req.raw.signal, place));
    } finally {
      place.leave();
    }
  });

  app.get("/:id/permissions", { auth: "admin" }, async (c) => {
    const id = readParam("runner id", c.req.param("id"), runnerIdText);
    await getRunner(s.db, id); // 404 for a runner that does not exist
    return c.json({ requests: await listPermissions(s.db, id) });
  });

  app.post("/:id/permission", { auth: "admin", audit: "own" }, async (c) => {
    const id = readParam("runner id", c.req.param("id"), runnerIdText);
    const body = await readBody(c, permissionAnswer);
    const request = await answerFromAnywhere(
      s.db,
      id,
      body,
      { by: actorName(c.get("actor")), channel: body.channel ?? "api" },
      remoteAddress(c),
    );
    return c.json(request);
  });

  return app.list;
}

const tokenRequest = z.strictObject({ host: z.string().min(1).max(255).optional() });
const revokeRequest = z.strictObject({ token: z.string().min(1).max(200) });

/**
 * Sessions Stratavore did not launch (`stratavore hooks install`): `POST /api/v1/observed/claude-hook` with
 * the observer token; `POST /api/v1/observed/tokens` and `/tokens/revoke` (admin) make and end such tokens.
 */
export function observedRoutes(s: Services, deps: ClaudeHookDeps): Route[] {
  const app = new Routes("/observed");

  app.post("/claude-hook", { auth: "observer", longLived: true, audit: "report" }, async (c) => {
    // A session a runner started carries its runner id: its own hooks report it already.
    if ((c.req.header("x-stratavore-runner") ?? "").trim() !== "") return c.json({});
    const input = await readBody(c, hookInputSchema, { watchesClient: true });
    const runner = await s.db.transaction((tx) =>
      observedRunner(tx, input, { host: s.host, daemonId: s.daemonId })
    );
    const place = deps.order.enter(runner.id);
    const answer = await handleHook(s, deps, runner.id, input, c.req.raw.signal, place)
      .finally(() => place.leave());
    if (input.hook_event_name === "SessionEnd") {
      await s.db.transaction((tx) => endObserved(tx, runner.id, input.reason));
    }
    return c.json(answer);
  });

  app.post("/tokens", { auth: "admin-only" }, async (c) => {
    const body = await readBody(c, tokenRequest);
    const token = await s.db.transaction((tx) => createObserverToken(tx, body?.host ?? s.host));
    return c.json({ token }, 201);
  });

  app.post("/tokens/revoke", { auth: "admin-only" }, async (c) => {
    const body = await readBody(c, revokeRequest);
    return c.json({ revoked: await revokeObserverToken(s.db, body.token) });
  });

  return app.list;
}

function remoteAddress(c: Context<AppEnv>): string | null {
  const remote = c.env?.remoteAddr;
  return remote && "hostname" in remote ? remote.hostname : null;
}
