/** /api/v1/runners: launch, list, show, stop, kill (admin). */
import { apiCallSummary } from "../store/api_calls.ts";
import { pendingPermissions } from "../store/permissions.ts";
import { z } from "zod";
import { AppError, isAppError } from "../../lib/errors.ts";
import { projectName, runnerIdText } from "../../lib/schemas/common.ts";
import {
  type LaunchRequest,
  launchRequest,
  type LaunchResponse,
  type Runner,
  runnerState,
  stopRequest,
} from "../../lib/schemas/runner.ts";
import { readBody, readParam } from "../http/body.ts";
import { type Route, Routes } from "../http/route.ts";
import type { Services } from "../services.ts";
import { emit } from "../store/outbox.ts";
import { getRunner, type LaunchContext, launchRunner, listRunners, transition } from "../store/runners.ts";
import { isActive } from "../../lib/runner_states.ts";
import { enqueueLaunch, LaunchQueued } from "../limits.ts";
import { getProject } from "../store/projects.ts";
import { checkWorktree, worktreeBranch, worktreePath, worktreeRoot } from "../../lib/worktree.ts";

const allFlag = z.enum(["true", "false", "1", "0"]).optional().transform((v) => v === "true" || v === "1");
const limit = z.string().regex(/^\d{1,5}$/, "expected a whole number up to 99999").transform(Number)
  .optional();

export interface RunnerRouteHooks {
  /** Starts the agent on this machine for detached launches (the agent issue wires it). */
  spawnAgent?: (runner: Runner, token: string) => Promise<void>;
  admit?: LaunchContext["admit"];
}

export function runnerRoutes(s: Services, hooks: RunnerRouteHooks = {}): Route[] {
  const r = new Routes("/runners");

  r.get("/", { auth: "admin" }, async (c) => {
    const project = c.req.query("project")
      ? readParam("project", c.req.query("project"), projectName)
      : undefined;
    const state = c.req.query("state") ? readParam("state", c.req.query("state"), runnerState) : undefined;
    const all = readParam("all flag", c.req.query("all"), allFlag);
    const max = readParam("limit", c.req.query("limit"), limit);
    const runners = await listRunners(s.db, { project, state, all, limit: max });
    const pending = await pendingPermissions(
      s.db,
      runners.filter((r) => r.activity === "waiting_for_input").map((r) => r.id),
    );
    return c.json({ runners: runners.map((r) => ({ ...r, pendingPermission: pending.get(r.id) ?? null })) });
  });

  r.post("/", { auth: "admin" }, async (c) => {
    const parsed = await readBody(c, launchRequest);
    // A dashboard session starts the project's own command; choosing another program is the admin's.
    if (c.get("actor")?.kind === "dashboard" && parsed.command !== undefined) {
      throw new AppError(
        "forbidden",
        "the dashboard launches the project's own command: set another with the CLI",
      );
    }
    // Started here without a prompt: an interactive session in a pseudo-terminal, to attach to.
    const body = parsed.spawn && parsed.prompt === undefined ? { ...parsed, mode: "pty" as const } : parsed;
    if (body.mode === "pty" && !body.spawn) {
      throw new AppError(
        "bad_request",
        "a runner with a terminal (mode pty) is started by the daemon: add spawn: true",
      );
    }
    // A detached runner's worktree is made on this machine by the agent it starts: what can be checked
    // before anything is registered is checked now, so a bad request is refused with nothing left behind.
    if (body.spawn) await precheckWorktree(s, body);
    let launched: LaunchResponse;
    try {
      launched = await s.db.transaction((tx) =>
        launchRunner(tx, body, { host: body.spawn ? s.host : null, daemonId: s.daemonId, admit: hooks.admit })
      );
    } catch (e) {
      // Held for the subscription window's reset (policy queue): started by the daemon after it.
      if (e instanceof LaunchQueued) return c.json({ queued: await enqueueLaunch(s, body, e) }, 202);
      if (isAppError(e) && e.code === "limit_reached") {
        await s.db.transaction((tx) =>
          emit(tx, {
            type: "limits.launch_refused",
            entityId: body.project,
            project: body.project,
            payload: { message: e.message, ...(e.details as Record<string, unknown>) },
          })
        );
      }
      if (isAppError(e) && (e.code === "quota_exceeded" || e.code === "budget_exceeded")) {
        // The refusal is an event too (Telegram, metrics), written outside the rolled-back launch.
        const type = e.code === "quota_exceeded" ? "project.quota_exceeded" : "budget.launch_refused";
        await s.db.transaction((tx) =>
          emit(tx, {
            type,
            entityId: body.project,
            project: body.project,
            payload: { message: e.message, ...(e.details as Record<string, unknown>) },
          })
        );
      }
      throw e;
    }
    if (body.spawn) {
      if (!hooks.spawnAgent) {
        throw new AppError("bad_request", "this daemon cannot start agents itself");
      }
      try {
        await hooks.spawnAgent(launched.runner, launched.token);
        launched = { ...launched, runner: await getRunner(s.db, launched.runner.id) };
      } catch (e) {
        const reason = `could not start the agent: ${(e as Error).message}`;
        await s.db.transaction((tx) => transition(tx, launched.runner.id, "failed", { reason }));
        throw new AppError("failed", reason);
      }
    }
    return c.json(launched, 201);
  });

  r.get("/:id", { auth: "admin" }, async (c) => {
    const id = readParam("runner id", c.req.param("id"), runnerIdText);
    const runner = await getRunner(s.db, id);
    // One runner in detail also says how its API calls went (Claude Code's telemetry events).
    const pending = await pendingPermissions(s.db, [id]);
    return c.json({
      ...runner,
      pendingPermission: pending.get(id) ?? null,
      apiCalls: await apiCallSummary(s.db, id),
    });
  });

  r.post("/:id/stop", { auth: "admin" }, async (c) => {
    const id = readParam("runner id", c.req.param("id"), runnerIdText);
    const body = await readBody(c, stopRequest);
    const runner = await s.db.transaction(async (tx) => {
      const current = await getRunner(tx, id, true);
      refuseObserved(current, "stopped");
      if (current.state === "stopping") return current;
      if (!isActive(current.state)) {
        throw new AppError("invalid_transition", `runner ${id} has already ended (${current.state})`, {
          details: { from: current.state, to: "stopping" },
        });
      }
      return await transition(tx, id, "stopping", { reason: body?.reason ?? "stop requested" });
    });
    return c.json(runner);
  });

  r.post("/:id/kill", { auth: "admin" }, async (c) => {
    const id = readParam("runner id", c.req.param("id"), runnerIdText);
    const body = await readBody(c, stopRequest);
    const runner = await s.db.transaction(async (tx) => {
      const current = await getRunner(tx, id, true);
      refuseObserved(current, "killed");
      if (!isActive(current.state)) {
        throw new AppError("invalid_transition", `runner ${id} has already ended (${current.state})`, {
          details: { from: current.state, to: "killed" },
        });
      }
      return await transition(tx, id, "killed", { reason: body?.reason ?? "killed" });
    });
    return c.json(runner);
  });

  return r.list;
}

async function precheckWorktree(s: Services, body: LaunchRequest): Promise<void> {
  if (body.worktree === false) return;
  const p = await getProject(s.db, body.project);
  const want = body.worktree ?? (p.worktree === "auto" ? {} : undefined);
  if (!want || want.reopen !== undefined) return;
  await checkWorktree({
    folder: body.cwd ?? p.path,
    base: want.base,
    requireCleanBase: want.requireCleanBase,
    ...(want.name
      ? {
        branch: worktreeBranch(p.name, want.name),
        path: worktreePath(worktreeRoot(s.config), p.name, want.name),
      }
      : {}),
  });
}

/** An observed session runs in someone's terminal or IDE: the daemon has no process to end. */
function refuseObserved(r: { id: number; mode: string; state: string }, what: string): void {
  if (r.mode === "observed" && isActive(r.state)) {
    throw new AppError(
      "conflict",
      `runner ${r.id} is an observed session (Stratavore did not start it and does not know its process): ` +
        `it cannot be ${what} from here; end it in its own terminal`,
    );
  }
}
