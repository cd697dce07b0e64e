/**
 * The typed client for every endpoint, used by the CLI and tests. Responses are checked against the same
 * zod schemas the daemon uses; failures become AppErrors carrying the API's code. The transport and the
 * runner token's calls are lib/runner_client.ts's, which the agent uses without zod.
 */
import { z } from "zod";
import {
  type Project,
  project,
  type ProjectCreate,
  projectList,
  type ProjectPatch,
} from "./schemas/project.ts";
import {
  type LaunchRequest,
  launchResponse,
  type PermissionAnswer,
  permissionRequest,
  type Runner,
  runner,
  runnerList,
  type RunnerState,
} from "./schemas/runner.ts";
import { status } from "./schemas/status.ts";
import { runnerDiff } from "./schemas/worktree.ts";
import { type ClientOptions, RunnerClient, type SendOptions } from "./runner_client.ts";
import { deadList, eventList } from "./schemas/event.ts";
import { notifyTestResponse } from "./schemas/notify.ts";
import { budget, budgetList, type BudgetPut, type BudgetScope } from "./schemas/budget.ts";
import { session, sessionList, usageReport } from "./schemas/session.ts";
import { limitHistory, type LimitsReport, limitsResponse, queuedLaunchResponse } from "./schemas/limits.ts";

export { ApiError, type ClientOptions, daemonDown } from "./runner_client.ts";

export class StratavoreClient extends RunnerClient<Runner> {
  constructor(opts: ClientOptions) {
    super(opts);
  }

  /** A client for the same daemon that authenticates as a runner. */
  withToken(token: string): StratavoreClient {
    return new StratavoreClient({ url: this.url, token, timeoutMs: this.timeoutMs, agent: this.agent });
  }

  /** A call whose answer `schema` parses. */
  request<S extends z.ZodType>(
    method: string,
    path: string,
    schema: S,
    opts: SendOptions = {},
  ): Promise<z.output<S>> {
    return this.send(method, path, (data) => {
      const parsed = schema.safeParse(data);
      return parsed.success
        ? { ok: true, value: parsed.data }
        : { ok: false, problem: parsed.error.issues[0]?.message ?? "invalid" };
    }, opts);
  }

  /** Answers' runners are parsed whole (the agent's RunnerClient reads only their id and state). */
  protected override runnerCheck(data: unknown) {
    const parsed = runner.safeParse(data);
    return parsed.success
      ? { ok: true as const, value: parsed.data }
      : { ok: false as const, problem: parsed.error.issues[0]?.message ?? "invalid runner" };
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
