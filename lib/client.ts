/**
 * The typed client for every endpoint, used by the CLI and the agent. Responses are checked against the
 * same zod schemas the daemon uses; failures become AppErrors carrying the API's code.
 */
import { z } from "zod";
import { AppError, isErrorCode } from "./errors.ts";
import { apiErrorBody } from "./schemas/common.ts";
import {
  type Project,
  project,
  type ProjectCreate,
  projectList,
  type ProjectPatch,
} from "./schemas/project.ts";
import {
  type ExitedRequest,
  type HeartbeatRequest,
  heartbeatResponse,
  type LaunchRequest,
  launchResponse,
  type PermissionAnswer,
  permissionRequest,
  runner,
  runnerList,
  type RunnerState,
  type StartedRequest,
} from "./schemas/runner.ts";
import { status } from "./schemas/status.ts";
import { runnerDiff, type WorktreeReport } from "./schemas/worktree.ts";
import { connectSocket, type SocketLike } from "./ws.ts";
import type { HeartbeatSigner } from "./signature.ts";
import { deadList, eventList } from "./schemas/event.ts";
import { notifyTestResponse } from "./schemas/notify.ts";
import { budget, budgetList, type BudgetPut, type BudgetScope } from "./schemas/budget.ts";
import { session, sessionList, usageReport } from "./schemas/session.ts";
import { limitHistory, type LimitsReport, limitsResponse, queuedLaunchResponse } from "./schemas/limits.ts";

export interface ClientOptions {
  url: string;
  token?: string;
  timeoutMs?: number;
  /** Sent as User-Agent, so the daemon log tells the CLI from the agent. */
  agent?: string;
}

/** An error answered by the daemon: the API's code and HTTP status. */
export class ApiError extends AppError {
  readonly apiCode: string;
  readonly httpStatus: number;
  constructor(apiCode: string, message: string, httpStatus: number, details?: unknown) {
    super(isErrorCode(apiCode) ? apiCode : "failed", message, { details, status: httpStatus });
    this.apiCode = apiCode;
    this.httpStatus = httpStatus;
  }
}

export function daemonDown(url: string): AppError {
  return new AppError(
    "daemon_unreachable",
    `stratavore daemon is not running at ${url}: start it with "stratavore daemon"`,
  );
}

type Query = Record<string, string | number | boolean | undefined>;

export class StratavoreClient {
  readonly url: string;
  #token?: string;
  #timeoutMs: number;
  #agent: string;
  #signer?: HeartbeatSigner;

  constructor(opts: ClientOptions) {
    this.url = opts.url.replace(/\/+$/, "");
    this.#token = opts.token;
    this.#timeoutMs = opts.timeoutMs ?? 30_000;
    this.#agent = opts.agent ?? "stratavore-cli";
  }

  /** A WebSocket to the daemon, authenticated with this client's token (in a header, never the URL). */
  webSocket(path: string, query: Record<string, string> = {}): SocketLike {
    const u = new URL(this.url.replace(/^http/, "ws") + path);
    for (const [k, v] of Object.entries(query)) u.searchParams.set(k, v);
    return connectSocket(u.toString(), { authorization: `Bearer ${this.#token ?? ""}` });
  }

  /** A client for the same daemon that authenticates as a runner. */
  withToken(token: string): StratavoreClient {
    return new StratavoreClient({ url: this.url, token, timeoutMs: this.#timeoutMs, agent: this.#agent });
  }

  async request<S extends z.ZodType>(
    method: string,
    path: string,
    schema: S,
    opts: {
      body?: unknown;
      bodyText?: string;
      query?: Query;
      timeoutMs?: number;
      headers?: Record<string, string>;
    } = {},
  ): Promise<z.output<S>> {
    const res = await this.raw(method, path, opts);
    const text = await res.text();
    let data: unknown;
    try {
      data = text ? JSON.parse(text) : undefined;
    } catch {
      throw new AppError(
        "failed",
        `the daemon at ${this.url} answered ${res.status} with something that is not JSON`,
      );
    }
    if (!res.ok) {
      const err = apiErrorBody.safeParse(data);
      if (err.success) {
        throw new ApiError(err.data.error.code, err.data.error.message, res.status, err.data.error.details);
      }
      throw new AppError("failed", `the daemon answered ${res.status} ${res.statusText}`);
    }
    const parsed = schema.safeParse(data);
    if (!parsed.success) {
      throw new AppError(
        "failed",
        `unexpected answer from the daemon at ${this.url} (${method} ${path}): ${
          parsed.error.issues[0]?.message
        }; is it the same version?`,
      );
    }
    return parsed.data;
  }

  /** The underlying fetch, with auth, timeout and "daemon is down" mapping (for streams). */
  async raw(
    method: string,
    path: string,
    opts: {
      body?: unknown;
      query?: Query;
      timeoutMs?: number;
      signal?: AbortSignal;
      headers?: Record<string, string>;
      /** Sent as-is instead of a JSON body. */
      rawBody?: Uint8Array<ArrayBuffer>;
      /** A JSON body already serialised (signed requests). */
      bodyText?: string;
    } = {},
  ): Promise<Response> {
    const u = new URL(this.url + path);
    for (const [k, v] of Object.entries(opts.query ?? {})) {
      if (v !== undefined) u.searchParams.set(k, String(v));
    }
    const headers: Record<string, string> = { "user-agent": this.#agent, ...opts.headers };
    if (this.#token) headers.authorization = `Bearer ${this.#token}`;
    if (opts.body !== undefined || opts.bodyText !== undefined) headers["content-type"] = "application/json";
    const timeout = opts.timeoutMs ?? this.#timeoutMs;
    const signals = [
      ...(timeout > 0 ? [AbortSignal.timeout(timeout)] : []),
      ...(opts.signal ? [opts.signal] : []),
    ];
    try {
      return await fetch(u, {
        method,
        headers,
        body: opts.rawBody ?? opts.bodyText ??
          (opts.body === undefined ? undefined : JSON.stringify(opts.body)),
        signal: signals.length ? AbortSignal.any(signals) : undefined,
      });
    } catch (e) {
      const err = e as Error;
      if (err.name === "TimeoutError") {
        throw new AppError(
          "timeout",
          `the daemon at ${this.url} did not answer within ${Math.round(timeout / 1000)}s`,
        );
      }
      if (err.name === "AbortError") throw e;
      throw daemonDown(this.url);
    }
  }

  health() {
    return this.request("GET", "/healthz", z.object({ ok: z.boolean(), version: z.string() }), {
      timeoutMs: 5000,
    });
  }
  status() {
    return this.request("GET", "/api/v1/status", status);
  }

  // projects
  async listProjects(): Promise<Project[]> {
    return (await this.request("GET", "/api/v1/projects", projectList)).projects;
  }
  getProject(name: string) {
    return this.request("GET", `/api/v1/projects/${encodeURIComponent(name)}`, project);
  }
  createProject(body: ProjectCreate) {
    return this.request("POST", "/api/v1/projects", project, { body });
  }
  updateProject(name: string, body: ProjectPatch) {
    return this.request("PATCH", `/api/v1/projects/${encodeURIComponent(name)}`, project, { body });
  }
  deleteProject(name: string, force = false) {
    return this.request(
      "DELETE",
      `/api/v1/projects/${encodeURIComponent(name)}`,
      z.object({ deleted: z.string(), killedRunners: z.array(z.number()) }),
      { query: { force: force || undefined } },
    );
  }

  // runners
  async listRunners(f: { project?: string; state?: RunnerState; all?: boolean; limit?: number } = {}) {
    return (await this.request("GET", "/api/v1/runners", runnerList, { query: f })).runners;
  }
  getRunner(id: number) {
    return this.request("GET", `/api/v1/runners/${id}`, runner);
  }
  launch(body: LaunchRequest) {
    return this.request("POST", "/api/v1/runners", launchResponse, { body });
  }
  /** A detached launch: started, or queued for a subscription window's reset (policy queue). */
  launchDetached(body: LaunchRequest) {
    return this.request("POST", "/api/v1/runners", z.union([launchResponse, queuedLaunchResponse]), {
      body: { ...body, spawn: true },
    });
  }
  stopRunner(id: number, reason?: string) {
    return this.request("POST", `/api/v1/runners/${id}/stop`, runner, { body: reason ? { reason } : {} });
  }
  killRunner(id: number, reason?: string) {
    return this.request("POST", `/api/v1/runners/${id}/kill`, runner, { body: reason ? { reason } : {} });
  }

  // agent calls (runner token)
  started(id: number, body: StartedRequest) {
    return this.request("POST", `/api/v1/runners/${id}/started`, runner, { body });
  }
  /** Signed with the runner token's key (lib/signature.ts); timestamps strictly increase per client. */
  async heartbeat(id: number, body: HeartbeatRequest) {
    const text = JSON.stringify(body);
    // Loaded on first use: its node:crypto costs every CLI command that never sends a heartbeat ~20 ms.
    this.#signer ??= new (await import("./signature.ts")).HeartbeatSigner(this.#token ?? "");
    return await this.request("POST", `/api/v1/runners/${id}/heartbeat`, heartbeatResponse, {
      bodyText: text,
      headers: this.#signer.headers(text),
      timeoutMs: 10_000,
    });
  }
  // worktrees
  runnerDiff(id: number, q: { stat?: boolean; paths?: string[] } = {}) {
    const qs = new URLSearchParams();
    if (q.stat) qs.set("stat", "true");
    for (const p of q.paths ?? []) qs.append("path", p);
    const tail = qs.size ? `?${qs}` : "";
    return this.request("GET", `/api/v1/runners/${id}/diff${tail}`, runnerDiff, { timeoutMs: 60_000 });
  }
  async listWorktrees(q: { project?: string; all?: boolean } = {}) {
    return (await this.request("GET", "/api/v1/worktrees", z.object({ worktrees: z.array(runner) }), {
      query: q,
    })).worktrees;
  }
  removeWorktree(id: number, o: { force?: boolean; deleteBranch?: boolean } = {}) {
    return this.request("DELETE", `/api/v1/worktrees/${id}`, runner, {
      query: { force: o.force || undefined, deleteBranch: o.deleteBranch || undefined },
    });
  }
  pruneWorktrees() {
    return this.request(
      "POST",
      "/api/v1/worktrees/prune",
      z.object({ removed: z.array(z.number()), kept: z.array(z.number()), elsewhere: z.array(z.number()) }),
      { timeoutMs: 120_000 },
    );
  }

  worktreeReport(id: number, body: WorktreeReport) {
    return this.request("POST", `/api/v1/runners/${id}/worktree`, runner, { body });
  }

  exited(id: number, body: ExitedRequest) {
    return this.request("POST", `/api/v1/runners/${id}/exited`, runner, { body });
  }
  // budgets
  async listBudgets() {
    return (await this.request("GET", "/api/v1/budgets", budgetList)).budgets;
  }
  #budgetPath(scope: BudgetScope, ref?: string) {
    return scope === "global"
      ? "/api/v1/budgets/global"
      : `/api/v1/budgets/${scope}/${encodeURIComponent(ref ?? "")}`;
  }
  getBudget(scope: BudgetScope, ref?: string) {
    return this.request("GET", this.#budgetPath(scope, ref), budget);
  }
  setBudget(scope: BudgetScope, ref: string | undefined, body: BudgetPut) {
    return this.request("PUT", this.#budgetPath(scope, ref), budget, { body });
  }
  deleteBudget(scope: BudgetScope, ref?: string) {
    return this.request("DELETE", this.#budgetPath(scope, ref), z.object({ deleted: z.string() }));
  }

  // sessions and usage
  async listSessions(q: { project?: string; limit?: number } = {}) {
    return (await this.request("GET", "/api/v1/sessions", sessionList, { query: q })).sessions;
  }
  getSession(id: string) {
    return this.request("GET", `/api/v1/sessions/${encodeURIComponent(id)}`, session);
  }
  usage(q: { project?: string; since?: string; until?: string; by?: string } = {}) {
    return this.request("GET", "/api/v1/usage", usageReport, { query: q });
  }
  /** Uploads a session's transcript, gzip-compressed (runner token). */
  async uploadTranscript(runnerId: number, sessionId: string, gzip: Uint8Array<ArrayBuffer>) {
    const res = await this.raw("PUT", `/api/v1/runners/${runnerId}/transcript`, {
      query: { session: sessionId },
      body: undefined,
      headers: { "content-type": "application/gzip" },
      rawBody: gzip,
      timeoutMs: 120_000,
    });
    const data = await res.json().catch(() => undefined);
    if (!res.ok) {
      const err = apiErrorBody.safeParse(data);
      throw err.success
        ? new ApiError(err.data.error.code, err.data.error.message, res.status, err.data.error.details)
        : new AppError("failed", `transcript upload answered ${res.status}`);
    }
    return data as { session: string; bytes: number; storedBytes: number; sha256: string; lines: number };
  }

  // events
  async recentEvents(q: { types?: string; limit?: number } = {}) {
    return (await this.request("GET", "/api/v1/events/recent", eventList, { query: q })).events;
  }
  deadEvents(limit?: number) {
    return this.request("GET", "/api/v1/events/dead", deadList, { query: { limit } });
  }
  retryDead(id?: number) {
    const path = id === undefined ? "/api/v1/events/dead/retry" : `/api/v1/events/dead/${id}/retry`;
    return this.request("POST", path, z.object({ requeued: z.array(z.number()) }));
  }

  /** A Claude Code hook's JSON, as its http hooks post it (the agent forwards SessionStart this way). */
  claudeHook(id: number, input: Record<string, unknown>) {
    return this.request("POST", `/api/v1/runners/${id}/claude-hook`, z.record(z.string(), z.unknown()), {
      body: input,
      timeoutMs: 5000,
    });
  }

  // subscription limits
  /** A runner's session reports its account's windows (the runner's token). */
  reportLimits(id: number, report: LimitsReport, timeoutMs = 5000) {
    return this.request("POST", `/api/v1/runners/${id}/limits`, z.record(z.string(), z.unknown()), {
      body: report,
      timeoutMs,
    });
  }
  /** A session Stratavore did not start reports its windows (the observer token). */
  reportObservedLimits(report: LimitsReport, timeoutMs = 5000) {
    return this.request("POST", "/api/v1/observed/limits", z.record(z.string(), z.unknown()), {
      body: report,
      timeoutMs,
    });
  }
  limits() {
    return this.request("GET", "/api/v1/limits", limitsResponse);
  }
  limitHistory(q: { account: string; window?: string; since?: string }) {
    return this.request("GET", "/api/v1/limits/history", limitHistory, { query: q });
  }

  // machine-wide hooks (stratavore hooks install)
  observerToken(host?: string) {
    return this.request("POST", "/api/v1/observed/tokens", z.object({ token: z.string() }), {
      body: host ? { host } : {},
    });
  }
  revokeObserverToken(token: string) {
    return this.request("POST", "/api/v1/observed/tokens/revoke", z.object({ revoked: z.boolean() }), {
      body: { token },
    });
  }

  // permission requests
  listPermissions(id: number) {
    return this.request(
      "GET",
      `/api/v1/runners/${id}/permissions`,
      z.object({ requests: z.array(permissionRequest) }),
    );
  }
  answerPermission(id: number, body: PermissionAnswer) {
    return this.request("POST", `/api/v1/runners/${id}/permission`, permissionRequest, { body });
  }

  // notifications
  notifyTest() {
    return this.request("POST", "/api/v1/notify/test", notifyTestResponse, { timeoutMs: 40_000 });
  }
}
