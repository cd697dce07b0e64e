/** The calls an agent makes about its own runner, authorised by the runner's token. */
import { Hono } from "hono";
import { AppError } from "../../lib/errors.ts";
import { runnerIdText } from "../../lib/schemas/common.ts";
import {
  exitedRequest,
  heartbeatRequest,
  type HeartbeatResponse,
  type ReportedTotal,
  type StartedRequest,
  startedRequest,
} from "../../lib/schemas/runner.ts";
import { type Queryable, retryOnDeadlock } from "../../lib/db/types.ts";
import type { PriceOverrides } from "../../lib/claude/pricing.ts";
import type { ReportedPoint } from "../../lib/claude/telemetry.ts";
import { recordReported, recordUsage, touchSession, type UsageDelta } from "../store/usage.ts";
import { readBody, readBodyAndText, readParam } from "../http/body.ts";
import { SIGNATURE_HEADER, verify } from "../../lib/signature.ts";
import type { AppEnv } from "../http/types.ts";
import type { Services } from "../services.ts";
import { getRunner, runnerNotFound, transition } from "../store/runners.ts";
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

  const lastSigned = new Map<number, number>();
  app.post("/:id/heartbeat", async (c) => {
    const id = readParam("runner id", c.req.param("id"), runnerIdText);
    const { value: body, text } = await readBodyAndText(c, heartbeatRequest);
    const signedMs = checkSignature(
      id,
      c.req.header(SIGNATURE_HEADER),
      text,
      s.tokens.knownHash(id),
      lastSigned,
    );
    const result = await s.heartbeats.submit(id, body, signedMs);
    if (!result) throw runnerNotFound(id);
    if (result.replayed && isActive(result.state)) throw replayed();
    if (!result.accepted) throw notActive(id, result.state, result.reason);
    if (body.usage?.length || body.reported?.length) {
      const { usage = [], reported = [] } = body;
      await retryOnDeadlock(() =>
        s.db.transaction(async (tx) => {
          const deltas = [
            ...await recordUsage(tx, id, usage, hooks.prices),
            ...await recordReported(tx, id, "result", reported.flatMap(resultValues)),
          ];
          if (deltas.length && hooks.afterUsage) await hooks.afterUsage(tx, deltas);
        })
      );
    }
    const reply: HeartbeatResponse = {
      state: result.state,
      stopRequested: result.stopRequested,
      intervalMs: s.config.heartbeatInterval,
    };
    return c.json(reply);
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

/**
 * A result event's per-model totals as reported series (one per kind; the event is cumulative). The series
 * key is stored as text, which PostgreSQL refuses to hold a NUL in: JSON keeps the parts apart without one.
 */
function resultValues(t: ReportedTotal): ReportedPoint[] {
  const of = (kind: ReportedPoint["kind"], value: number): ReportedPoint => ({
    series: JSON.stringify([t.sessionId, t.model, kind]),
    start: "0",
    sessionId: t.sessionId,
    model: t.model,
    kind,
    value,
  });
  return [
    of("cost", t.costUsd),
    of("input", t.input),
    of("output", t.output),
    of("cacheRead", t.cacheRead),
    of("cacheCreation", t.cacheCreation),
  ];
}

function replayed(): AppError {
  return new AppError("unauthorized", "a heartbeat was replayed (its time is not newer)", {
    details: { signature: "replayed" },
  });
}

/**
 * Heartbeats are HMAC-signed with the runner's key (lib/signature.ts); replays and stale ones are refused.
 * This daemon's memory catches a replay at once; the database (agent_tokens.last_signed_ms, written with the
 * heartbeat) catches one across a restart or another daemon. Returns the signature time.
 */
function checkSignature(
  id: number,
  header: string | undefined,
  text: string,
  key: string | undefined,
  last: Map<number, number>,
): number {
  if (!key) throw new AppError("unauthorized", `invalid token for runner ${id}`);
  const { result, timestamp } = verify(header, key, text, Date.now());
  const why = {
    missing: `heartbeats must be signed: send ${SIGNATURE_HEADER} (the agent does)`,
    malformed: `${SIGNATURE_HEADER} must look like t=<ms>,v1=<hex>`,
    stale: "the heartbeat's signature time is more than 5 minutes off: check this machine's clock",
    bad: "the heartbeat's signature does not match its body",
  };
  // details.signature tells these from a refused token: the agent ends its session only for the latter.
  if (result !== "ok") throw new AppError("unauthorized", why[result], { details: { signature: result } });
  if ((last.get(id) ?? 0) >= timestamp!) throw replayed();
  if (last.size > 100_000) last.clear();
  last.set(id, timestamp!);
  return timestamp!;
}

function notActive(id: number, state: string, reason: string | null): AppError {
  return new AppError(
    "runner_not_active",
    `runner ${id} is ${state}${reason ? ` (${reason})` : ""} and no longer accepts reports from its agent`,
    { details: { state, reason } },
  );
}
