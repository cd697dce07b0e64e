/**
 * Calls to the daemon's API from the page: the admin token (kept in sessionStorage) as a bearer header,
 * JSON in and out, and the API's `{"error":{code,message}}` as an ApiError. A 401 signs the page out.
 */
import type { Budget } from "../../lib/schemas/budget.ts";
import type { DeadEvent, EventEnvelope } from "../../lib/schemas/event.ts";
import type { Project } from "../../lib/schemas/project.ts";
import type { LaunchResponse, PermissionRequest, Runner } from "../../lib/schemas/runner.ts";
import type { UsageReport } from "../../lib/schemas/session.ts";
import type { Status } from "../../lib/schemas/status.ts";
import type { LimitHistory, LimitsResponse, QueuedLaunch } from "../../lib/schemas/limits.ts";
import type { RunnerDiff, WorktreeRequest } from "../../lib/schemas/worktree.ts";

const TOKEN_KEY = "stratavore.token";

export class ApiError extends Error {
  constructor(readonly code: string, message: string, readonly status: number) {
    super(message);
  }
}

type Listener = () => void;
const signOutListeners = new Set<Listener>();

export const auth = {
  get token(): string | null {
    try {
      return sessionStorage.getItem(TOKEN_KEY);
    } catch {
      return null;
    }
  },
  set(token: string): void {
    sessionStorage.setItem(TOKEN_KEY, token);
  },
  clear(): void {
    sessionStorage.removeItem(TOKEN_KEY);
    for (const l of signOutListeners) l();
  },
  onSignOut(l: Listener): () => void {
    signOutListeners.add(l);
    return () => signOutListeners.delete(l);
  },
};

/** The API's error, or a readable one when the daemon answered something else. */
export async function errorOf(res: Response): Promise<ApiError> {
  try {
    const body = await res.json();
    if (body?.error?.message) return new ApiError(body.error.code, body.error.message, res.status);
  } catch { /* not JSON */ }
  return new ApiError("failed", `the daemon answered ${res.status} ${res.statusText}`, res.status);
}

export interface CallOptions {
  body?: unknown;
  signal?: AbortSignal;
  /** Use this token instead of the stored one (checking a pasted token). */
  token?: string;
}

/** The fetch underneath: bearer token, JSON body; network failures become ApiError("unreachable"). */
export async function raw(method: string, path: string, opts: CallOptions = {}): Promise<Response> {
  const headers: Record<string, string> = {};
  const token = opts.token ?? auth.token;
  if (token) headers.authorization = `Bearer ${token}`;
  if (opts.body !== undefined) headers["content-type"] = "application/json";
  let res: Response;
  try {
    res = await fetch(path, {
      method,
      headers,
      body: opts.body === undefined ? undefined : JSON.stringify(opts.body),
      signal: opts.signal,
      cache: "no-store",
    });
  } catch (e) {
    if ((e as Error).name === "AbortError") throw e;
    throw new ApiError("unreachable", "the daemon does not answer (is it running?)", 0);
  }
  if (res.status === 401 && opts.token === undefined && auth.token) {
    auth.clear();
  }
  return res;
}

export async function call<T>(method: string, path: string, opts: CallOptions = {}): Promise<T> {
  const res = await raw(method, path, opts);
  if (!res.ok) throw await errorOf(res);
  return await res.json() as T;
}

const q = (params: Record<string, string | number | boolean | undefined>) => {
  const u = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v !== undefined && v !== "") u.set(k, String(v));
  const s = u.toString();
  return s ? `?${s}` : "";
};

export const api = {
  status: (token?: string) => call<Status>("GET", "/api/v1/status", { token }),
  projects: async () => (await call<{ projects: Project[] }>("GET", "/api/v1/projects")).projects,
  runners: async (f: { all?: boolean; limit?: number; project?: string } = {}) =>
    (await call<{ runners: Runner[] }>("GET", `/api/v1/runners${q(f)}`)).runners,
  runner: (id: number) => call<Runner>("GET", `/api/v1/runners/${id}`),
  /** Started, or queued for a subscription window's reset (the project's limit policy is queue). */
  launch: (
    body: { project: string; prompt: string; args?: string[]; spawn: true; worktree?: WorktreeRequest },
  ) => call<LaunchResponse | { queued: QueuedLaunch }>("POST", "/api/v1/runners", { body }),
  runnerDiff: (id: number) => call<RunnerDiff>("GET", `/api/v1/runners/${id}/diff`),
  stop: (id: number) => call<Runner>("POST", `/api/v1/runners/${id}/stop`, { body: {} }),
  kill: (id: number) => call<Runner>("POST", `/api/v1/runners/${id}/kill`, { body: {} }),
  permissions: async (id: number) =>
    (await call<{ requests: PermissionRequest[] }>("GET", `/api/v1/runners/${id}/permissions`)).requests,
  answerPermission: (id: number, body: { decision: "allow" | "deny"; requestId: number; message?: string }) =>
    call<PermissionRequest>("POST", `/api/v1/runners/${id}/permission`, {
      body: { ...body, channel: "web" },
    }),
  budgets: async () => (await call<{ budgets: Budget[] }>("GET", "/api/v1/budgets")).budgets,
  limits: () => call<LimitsResponse>("GET", "/api/v1/limits"),
  limitHistory: (p: { account: string; window: string; since?: string }) =>
    call<LimitHistory>("GET", `/api/v1/limits/history${q(p)}`),
  usage: (p: { by: "day" | "model" | "project"; project?: string; since?: string; until?: string }) =>
    call<UsageReport>("GET", `/api/v1/usage${q(p)}`),
  recentEvents: async (p: { types?: string; limit?: number }) =>
    (await call<{ events: EventEnvelope[] }>("GET", `/api/v1/events/recent${q(p)}`)).events,
  deadEvents: () => call<{ events: DeadEvent[]; total: number }>("GET", "/api/v1/events/dead"),
  retryDead: (id?: number) =>
    call<{ requeued: number[] }>(
      "POST",
      id === undefined ? "/api/v1/events/dead/retry" : `/api/v1/events/dead/${id}/retry`,
    ),
  /**
   * Trades a one-time sign-in code for a dashboard session (the code is the credential): a token that works
   * only with the HttpOnly cookie the same answer sets in this browser.
   */
  exchange: async (credential: { code: string } | { token: string }): Promise<string> => {
    const res = await fetch("/ui/exchange", {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify(credential),
      cache: "no-store",
    });
    if (!res.ok) throw await errorOf(res);
    return (await res.json() as { token: string }).token;
  },
};

/**
 * Reads a streaming response line by line (a followed log) until it ends or the signal aborts.
 */
export async function readLines(
  res: Response,
  onLine: (line: string) => void,
  signal: AbortSignal,
): Promise<void> {
  if (!res.body) return;
  const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
  const abort = () => reader.cancel().catch(() => {});
  signal.addEventListener("abort", abort, { once: true });
  let buf = "";
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      buf += value;
      let i;
      while ((i = buf.indexOf("\n")) >= 0) {
        onLine(buf.slice(0, i));
        buf = buf.slice(i + 1);
      }
    }
    if (buf) onLine(buf);
  } finally {
    signal.removeEventListener("abort", abort);
  }
}
