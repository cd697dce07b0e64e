/** The calls an agent makes about its own runner, authorised by the runner's token. */
import { runnerIdText } from "../../lib/schemas/common.ts";
import { exitedRequest, heartbeatRequest, startedRequest } from "../../lib/schemas/runner.ts";
import type { Queryable } from "../../lib/db/types.ts";
import type { PriceOverrides } from "../../lib/claude/pricing.ts";
import { touchSession, type UsageDelta } from "../store/usage.ts";
import { readBody, readBodyAndText, readParam } from "../http/body.ts";
import { SIGNATURE_HEADER } from "../../lib/signature.ts";
import { notActive, recordHeartbeat } from "./heartbeat.ts";
import { type Route, Routes } from "../http/route.ts";
import type { Services } from "../services.ts";
import {
  getRunner,
  recordCommand,
  recordLateExit,
  recordProcess,
  recordTelemetryMode,
  transition,
} from "../store/runners.ts";
import { recordWorktree } from "../store/worktrees.ts";
import { worktreeReport } from "../../lib/schemas/worktree.ts";
import { isActive } from "../../lib/runner_states.ts";

export interface AgentRouteHooks {
  /** Runs in the transaction that booked new usage (budgets count it there). */
  afterUsage?: (tx: Queryable, deltas: UsageDelta[]) => Promise<void>;
  /** Price overrides for cost estimates (config `prices`). */
  prices?: PriceOverrides;
}

export function agentRoutes(s: Services, hooks: AgentRouteHooks = {}): Route[] {
  const app = new Routes("/runners");

  app.post("/:id/started", { auth: "runner" }, async (c) => {
    const id = readParam("runner id", c.req.param("id"), runnerIdText);
    const body = await readBody(c, startedRequest);
    const runner = await s.db.transaction(async (tx) => {
      const current = await getRunner(tx, id, true);
      if (
        body.sessionId && current.state !== "stopped" && current.state !== "failed" &&
        current.state !== "killed"
      ) {
        await touchSession(tx, body.sessionId, { id, projectId: current.projectId, cwd: current.cwd });
      }
      // Only the first report (the runner still starting) says what ran: a later one cannot rewrite the
      // command line (which names the sessions the runner resumes).
      if (body.command && current.state === "starting") {
        await recordCommand(tx, id, body.command, body.args ?? []);
      }
      if (current.state === "starting") {
        await recordTelemetryMode(tx, id, body);
        return await transition(tx, id, "running", {
          pid: body.pid,
          host: body.host,
          sessionId: body.sessionId,
        });
      }
      if (current.state === "running" || current.state === "stopping") {
        // A retried report (or a stop requested before the start): record the process, keep the state.
        await recordProcess(tx, id, body.pid, body.host);
        await recordTelemetryMode(tx, id, body);
        return await getRunner(tx, id);
      }
      throw notActive(id, current.state, current.reason);
    });
    return c.json(runner);
  });

  app.post("/:id/heartbeat", { auth: "runner", audit: "report", staleTokenOk: true }, async (c) => {
    const id = readParam("runner id", c.req.param("id"), runnerIdText);
    const { value: body, text } = await readBodyAndText(c, heartbeatRequest);
    return c.json(await recordHeartbeat(s, hooks, id, c.req.header(SIGNATURE_HEADER), text, body));
  });

  /** The agent made (or reopened) the runner's worktree, saw it change, or ended it (kept or removed). */
  app.post("/:id/worktree", { auth: "runner", audit: "report" }, async (c) => {
    const id = readParam("runner id", c.req.param("id"), runnerIdText);
    const body = await readBody(c, worktreeReport);
    const runner = await s.db.transaction((tx) => recordWorktree(tx, id, body));
    return c.json(runner);
  });

  app.post("/:id/exited", { auth: "runner" }, async (c) => {
    const id = readParam("runner id", c.req.param("id"), runnerIdText);
    const body = await readBody(c, exitedRequest);
    const runner = await s.db.transaction(async (tx) => {
      const current = await getRunner(tx, id, true);
      const patch = { exitCode: body.exitCode, exitSignal: body.signal ?? null };
      if (!isActive(current.state)) {
        // Already ended (killed, or failed by the reconciler): keep the verdict, record how it exited.
        await recordLateExit(tx, id, body.exitCode, body.signal ?? null);
        return await getRunner(tx, id);
      }
      const asked = current.state === "stopping";
      const clean = body.exitCode === 0;
      const to = asked || clean ? "stopped" : "failed";
      const reason = body.reason ??
        (asked
          ? current.reason ?? "stopped on request"
          : clean
          ? "exited normally"
          : body.signal
          ? `ended by signal ${body.signal}`
          : `exited with code ${body.exitCode}`);
      return await transition(tx, id, to, { ...patch, reason });
    });
    return c.json(runner);
  });

  return app.list;
}
