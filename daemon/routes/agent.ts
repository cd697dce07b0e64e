/** The calls an agent makes about its own runner, authorised by the runner's token. */
import { Hono } from "hono";
import { runnerIdText } from "../../lib/schemas/common.ts";
import {
  exitedRequest,
  heartbeatRequest,
  type StartedRequest,
  startedRequest,
} from "../../lib/schemas/runner.ts";
import type { Queryable } from "../../lib/db/types.ts";
import type { PriceOverrides } from "../../lib/claude/pricing.ts";
import { touchSession, type UsageDelta } from "../store/usage.ts";
import { readBody, readBodyAndText, readParam } from "../http/body.ts";
import { SIGNATURE_HEADER } from "../../lib/signature.ts";
import { notActive, recordHeartbeat } from "./heartbeat.ts";
import type { AppEnv } from "../http/types.ts";
import type { Services } from "../services.ts";
import { getRunner, transition } from "../store/runners.ts";
import { recordWorktree } from "../store/worktrees.ts";
import { worktreeReport } from "../../lib/schemas/worktree.ts";
import { isActive } from "../../lib/runner_states.ts";

export interface AgentRouteHooks {
  /** Runs in the transaction that booked new usage (budgets count it there). */
  afterUsage?: (tx: Queryable, deltas: UsageDelta[]) => Promise<void>;
  /** Price overrides for cost estimates (config `prices`). */
  prices?: PriceOverrides;
}

export function agentRoutes(s: Services, hooks: AgentRouteHooks = {}): Hono<AppEnv> {
  const app = new Hono<AppEnv>();

  app.post("/:id/started", async (c) => {
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
        // What really ran, with what the agent added (Claude's --session-id and --settings).
        await tx.query("UPDATE runners SET command = $2, args = $3::jsonb WHERE id = $1", [
          id,
          body.command,
          body.args ?? [],
        ]);
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
        await tx.query("UPDATE runners SET pid = $2, host = $3, updated_at = now() WHERE id = $1", [
          id,
          body.pid,
          body.host,
        ]);
        await recordTelemetryMode(tx, id, body);
        return await getRunner(tx, id);
      }
      throw notActive(id, current.state, current.reason);
    });
    return c.json(runner);
  });

  app.post("/:id/heartbeat", async (c) => {
    const id = readParam("runner id", c.req.param("id"), runnerIdText);
    const { value: body, text } = await readBodyAndText(c, heartbeatRequest);
    return c.json(await recordHeartbeat(s, hooks, id, c.req.header(SIGNATURE_HEADER), text, body));
  });

  /** The agent made (or reopened) the runner's worktree, saw it change, or ended it (kept or removed). */
  app.post("/:id/worktree", async (c) => {
    const id = readParam("runner id", c.req.param("id"), runnerIdText);
    const body = await readBody(c, worktreeReport);
    const runner = await s.db.transaction((tx) => recordWorktree(tx, id, body));
    return c.json(runner);
  });

  app.post("/:id/exited", async (c) => {
    const id = readParam("runner id", c.req.param("id"), runnerIdText);
    const body = await readBody(c, exitedRequest);
    const runner = await s.db.transaction(async (tx) => {
      const current = await getRunner(tx, id, true);
      const patch = { exitCode: body.exitCode, exitSignal: body.signal ?? null };
      if (!isActive(current.state)) {
        // Already ended (killed, or failed by the reconciler): keep the verdict, record how it exited.
        await tx.query(
          "UPDATE runners SET exit_code = coalesce(exit_code, $2), exit_signal = coalesce(exit_signal, $3) WHERE id = $1",
          [id, body.exitCode, body.signal ?? null],
        );
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

  return app;
}

async function recordTelemetryMode(tx: Queryable, id: number, body: StartedRequest): Promise<void> {
  if (body.autoContinue !== undefined) {
    await tx.query("UPDATE runners SET auto_continue = $2 WHERE id = $1", [id, body.autoContinue]);
  }
  if (!body.telemetry) return;
  await tx.query("UPDATE runners SET telemetry = $2, telemetry_endpoint = $3 WHERE id = $1", [
    id,
    body.telemetry,
    body.telemetryEndpoint ?? null,
  ]);
}
