/**
 * One error type for everything a user can see: a stable code, the HTTP status the API answers with,
 * and the exit code the CLI ends with. Anything that is not an AppError is a bug (500 / exit 1 with a stack).
 */

export const EXIT = {
  ok: 0,
  failed: 1,
  usage: 2,
  unreachable: 3,
} as const;

/**
 * Every code an AppError carries: the API answers with them and the client turns each back into the same
 * code (a code missing here would reach the CLI as a plain "failed").
 */
export const ERROR_CODES = [
  "bad_request",
  "invalid_body",
  "invalid_json",
  "unauthorized",
  "forbidden",
  "not_found",
  "conflict",
  "quota_exceeded",
  "budget_exceeded",
  "limit_reached",
  "invalid_transition",
  "runner_not_active",
  "runner_ended",
  "project_busy",
  "payload_too_large",
  "timeout",
  "unsupported_media_type",
  "config_invalid",
  "migration_changed",
  "already_running",
  "daemon_unreachable",
  "shutting_down",
  "usage",
  "failed",
  "internal",
] as const;
export type ErrorCode = typeof ERROR_CODES[number];

export function isErrorCode(code: string): code is ErrorCode {
  return (ERROR_CODES as readonly string[]).includes(code);
}

const STATUS: Record<ErrorCode, number> = {
  bad_request: 400,
  invalid_body: 400,
  invalid_json: 400,
  unauthorized: 401,
  forbidden: 403,
  not_found: 404,
  conflict: 409,
  quota_exceeded: 409,
  budget_exceeded: 429,
  limit_reached: 429,
  invalid_transition: 409,
  runner_not_active: 409,
  // A runner token whose runner has ended: refused like any token that no longer works.
  runner_ended: 401,
  project_busy: 409,
  payload_too_large: 413,
  unsupported_media_type: 415,
  timeout: 504,
  config_invalid: 500,
  migration_changed: 500,
  already_running: 409,
  daemon_unreachable: 503,
  shutting_down: 503,
  usage: 400,
  failed: 500,
  internal: 500,
};

export class AppError extends Error {
  readonly code: ErrorCode;
  readonly status: number;
  readonly details?: unknown;
  readonly exitCode: number;

  constructor(
    code: ErrorCode,
    message: string,
    opts: { details?: unknown; status?: number; exitCode?: number } = {},
  ) {
    super(message);
    this.name = "AppError";
    this.code = code;
    this.status = opts.status ?? STATUS[code];
    this.details = opts.details;
    this.exitCode = opts.exitCode ?? exitCodeFor(code);
  }

  toJSON(): { error: { code: string; message: string; details?: unknown } } {
    return {
      error: {
        code: this.code,
        message: this.message,
        ...(this.details === undefined ? {} : { details: this.details }),
      },
    };
  }
}

function exitCodeFor(code: ErrorCode): number {
  switch (code) {
    case "config_invalid":
    case "usage":
      return EXIT.usage;
    case "daemon_unreachable":
      return EXIT.unreachable;
    default:
      return EXIT.failed;
  }
}

export function isAppError(e: unknown): e is AppError {
  return e instanceof AppError;
}
