/**
 * The daemon's HTTP API as an agent uses it: the transport every client shares (auth, timeout, the daemon's
 * error body, "daemon is down") and the calls a runner's token makes (started, heartbeat, hooks, limits,
 * worktree, exit, transcript, link). It loads no zod: the agent runs beside every session all day and zod
 * is a tenth of its memory (docs/performance.md, agent RSS). The shapes are lib/schemas' (types only); the
 * few answers the agent reads are checked by hand here, and tests/lib/runner_client_test.ts holds each check
 * to its schema. StratavoreClient (lib/client.ts) adds every other endpoint and checks answers with zod.
 */
import { AppError, isErrorCode } from "./errors.ts";
import type { HeartbeatSigner } from "./signature.ts";
import { RUNNER_STATES, type RunnerState } from "./runner_states.ts";
import { connectSocket, type SocketLike } from "./ws.ts";
import type { ExitedRequest, HeartbeatRequest, HeartbeatResponse, StartedRequest } from "./schemas/runner.ts";
import type { WorktreeReport } from "./schemas/worktree.ts";
import type { LimitsReport } from "./schemas/limits.ts";

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

/**
 * The header every daemon answer carries: its database's installation id (migrations/011). A client whose
 * calls have been answered by one installation does not take another's refusal as its daemon's word.
 */
export const INSTALLATION_HEADER = "stratavore-installation";

/** A refusal from a daemon of another installation (or not a daemon) at this client's daemon's address. */
export function foreignDaemon(url: string): AppError {
  return new AppError(
    "daemon_unreachable",
    `another Stratavore installation (or another server) answers at ${url}, not the daemon this client spoke to`,
  );
}

export function daemonDown(url: string): AppError {
  return new AppError(
    "daemon_unreachable",
    `stratavore daemon is not running at ${url}: start it with "stratavore daemon"`,
  );
}

export type Query = Record<string, string | number | boolean | undefined>;

export interface SendOptions {
  body?: unknown;
  /** A JSON body already serialised (signed requests). */
  bodyText?: string;
  query?: Query;
  timeoutMs?: number;
  headers?: Record<string, string>;
}

export interface RawOptions extends SendOptions {
  signal?: AbortSignal;
  /** Sent as-is instead of a JSON body. */
  rawBody?: Uint8Array<ArrayBuffer>;
}

/** What the agent reads of a runner in an answer (the whole Runner is lib/schemas/runner.ts's). */
export interface RunnerAnswer {
  id: number;
  state: RunnerState;
}

const isRecord = (v: unknown): v is Record<string, unknown> =>
  typeof v === "object" && v !== null && !Array.isArray(v);

const isState = (v: unknown): v is RunnerState => (RUNNER_STATES as readonly unknown[]).includes(v);

/** The daemon's error body (lib/schemas/common.ts apiErrorBody), or undefined. */
export function apiErrorOf(data: unknown): { code: string; message: string; details?: unknown } | undefined {
  const e = isRecord(data) ? data.error : undefined;
  if (!isRecord(e) || typeof e.code !== "string" || typeof e.message !== "string") return undefined;
  return { code: e.code, message: e.message, details: e.details };
}

/** A runner in an answer, as far as the agent reads it (lib/schemas/runner.ts runner). */
export function runnerAnswerOf(data: unknown): RunnerAnswer | undefined {
  if (!isRecord(data) || typeof data.id !== "number" || !isState(data.state)) return undefined;
  return data as unknown as RunnerAnswer;
}

/** A heartbeat's answer (lib/schemas/runner.ts heartbeatResponse), or undefined. */
export function heartbeatAnswerOf(data: unknown): HeartbeatResponse | undefined {
  if (
    !isRecord(data) || !isState(data.state) || typeof data.stopRequested !== "boolean" ||
    typeof data.intervalMs !== "number" || !Number.isFinite(data.intervalMs)
  ) return undefined;
  return { state: data.state, stopRequested: data.stopRequested, intervalMs: data.intervalMs };
}

/** A JSON object answer (hooks, limits), or undefined. */
export function recordOf(data: unknown): Record<string, unknown> | undefined {
  return isRecord(data) ? data : undefined;
}

export class RunnerClient<R extends RunnerAnswer = RunnerAnswer> {
  readonly url: string;
  protected readonly token?: string;
  protected readonly timeoutMs: number;
  protected readonly agent: string;
  #signer?: HeartbeatSigner;
  /** The installation of the first daemon that answered a call successfully. */
  #installation?: string;

  constructor(opts: ClientOptions) {
    this.url = opts.url.replace(/\/+$/, "");
    this.token = opts.token;
    this.timeoutMs = opts.timeoutMs ?? 30_000;
    this.agent = opts.agent ?? "stratavore-cli";
  }

  /** A WebSocket to the daemon, authenticated with this client's token (in a header, never the URL). */
  webSocket(path: string, query: Record<string, string> = {}): SocketLike {
    const u = new URL(this.url.replace(/^http/, "ws") + path);
    for (const [k, v] of Object.entries(query)) u.searchParams.set(k, v);
    return connectSocket(u.toString(), { authorization: `Bearer ${this.token ?? ""}` });
  }

  /**
   * A call whose answer is JSON, checked by `check` (undefined: not the expected shape). A refusal becomes
   * an ApiError with the API's code; a daemon of another version, a clear "is it the same version?".
   */
  async send<T>(
    method: string,
    path: string,
    check: (data: unknown) => { ok: true; value: T } | { ok: false; problem: string },
    opts: SendOptions = {},
  ): Promise<T> {
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
    const installation = res.headers.get(INSTALLATION_HEADER) ?? undefined;
    if (!res.ok) {
      // A port taken by another daemon while ours was away: its refusals say nothing about our runner.
      if (this.#installation !== undefined && installation !== this.#installation) {
        throw foreignDaemon(this.url);
      }
      throw this.refusal(res, data);
    }
    this.#installation ??= installation;
    const checked = check(data);
    if (!checked.ok) {
      throw new AppError(
        "failed",
        `unexpected answer from the daemon at ${this.url} (${method} ${path}): ${checked.problem}; is it the same version?`,
      );
    }
    return checked.value;
  }

  /** The error a refused call throws: the daemon's own code and message when it gave them. */
  protected refusal(res: Response, data: unknown): AppError {
    const err = apiErrorOf(data);
    return err
      ? new ApiError(err.code, err.message, res.status, err.details)
      : new AppError("failed", `the daemon answered ${res.status} ${res.statusText}`);
  }

  /** The underlying fetch, with auth, timeout and "daemon is down" mapping (for streams). */
  async raw(method: string, path: string, opts: RawOptions = {}): Promise<Response> {
    const u = new URL(this.url + path);
    for (const [k, v] of Object.entries(opts.query ?? {})) {
      if (v !== undefined) u.searchParams.set(k, String(v));
    }
    const headers: Record<string, string> = { "user-agent": this.agent, ...opts.headers };
    if (this.token) headers.authorization = `Bearer ${this.token}`;
    if (opts.body !== undefined || opts.bodyText !== undefined) headers["content-type"] = "application/json";
    const timeout = opts.timeoutMs ?? this.timeoutMs;
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

  /** How an answer's runner is checked: by hand here; StratavoreClient parses the whole Runner with zod. */
  protected runnerCheck(data: unknown): { ok: true; value: R } | { ok: false; problem: string } {
    const r = runnerAnswerOf(data);
    return r ? { ok: true, value: r as R } : { ok: false, problem: "expected a runner" };
  }

  #record = (data: unknown) => {
    const r = recordOf(data);
    return r ? { ok: true as const, value: r } : { ok: false as const, problem: "expected a JSON object" };
  };

  started(id: number, body: StartedRequest): Promise<R> {
    return this.send("POST", `/api/v1/runners/${id}/started`, (d) => this.runnerCheck(d), { body });
  }

  /** Signed with the runner token's key (lib/signature.ts); timestamps strictly increase per client. */
  async heartbeat(id: number, body: HeartbeatRequest): Promise<HeartbeatResponse> {
    const text = JSON.stringify(body);
    // Loaded on first use: a CLI command that never sends a heartbeat does not pay for it.
    this.#signer ??= new (await import("./signature.ts")).HeartbeatSigner(this.token ?? "");
    return await this.send("POST", `/api/v1/runners/${id}/heartbeat`, (d) => {
      const hb = heartbeatAnswerOf(d);
      return hb ? { ok: true, value: hb } : { ok: false, problem: "expected a heartbeat's answer" };
    }, {
      bodyText: text,
      headers: this.#signer.headers(text),
      timeoutMs: 10_000,
    });
  }

  worktreeReport(id: number, body: WorktreeReport): Promise<R> {
    return this.send("POST", `/api/v1/runners/${id}/worktree`, (d) => this.runnerCheck(d), { body });
  }

  exited(id: number, body: ExitedRequest): Promise<R> {
    return this.send("POST", `/api/v1/runners/${id}/exited`, (d) => this.runnerCheck(d), { body });
  }

  /** A Claude Code hook's JSON, as its http hooks post it (the agent forwards SessionStart this way). */
  claudeHook(id: number, input: Record<string, unknown>): Promise<Record<string, unknown>> {
    return this.send("POST", `/api/v1/runners/${id}/claude-hook`, this.#record, {
      body: input,
      timeoutMs: 5000,
    });
  }

  /** A runner's session reports its account's windows (the runner's token). */
  reportLimits(id: number, report: LimitsReport, timeoutMs = 5000): Promise<Record<string, unknown>> {
    return this.send("POST", `/api/v1/runners/${id}/limits`, this.#record, { body: report, timeoutMs });
  }

  /** Uploads a session's transcript, gzip-compressed (runner token). */
  async uploadTranscript(runnerId: number, sessionId: string, gzip: Uint8Array<ArrayBuffer>) {
    const res = await this.raw("PUT", `/api/v1/runners/${runnerId}/transcript`, {
      query: { session: sessionId },
      headers: { "content-type": "application/gzip" },
      rawBody: gzip,
      timeoutMs: 120_000,
    });
    const data = await res.json().catch(() => undefined);
    if (!res.ok) throw this.refusal(res, data);
    return data as { session: string; bytes: number; storedBytes: number; sha256: string; lines: number };
  }
}
