/**
 * Checks every request's path and query before any route sees them: a NUL or a lone surrogate (`%00`,
 * `%ED%A0%80`) reaching PostgreSQL as text is an error there, which used to be a 500. JSON bodies get the
 * same rule in body.ts; database data errors that still slip through are 400s in the error handler.
 */
import type { MiddlewareHandler } from "hono";
import { AppError } from "../../lib/errors.ts";
import { textProblem } from "../../lib/schemas/common.ts";
import type { AppEnv } from "./types.ts";

export function checkUrlText(): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    const url = new URL(c.req.url);
    let path: string;
    try {
      path = decodeURIComponent(url.pathname);
    } catch {
      throw new AppError("bad_request", "the request path is not valid percent-encoded UTF-8");
    }
    const pathProblem = textProblem(path);
    if (pathProblem) throw new AppError("bad_request", `the request path ${pathProblem}`);
    for (const [k, v] of url.searchParams) {
      const problem = textProblem(k) ?? textProblem(v);
      if (problem) throw new AppError("bad_request", `query parameter ${JSON.stringify(k)} ${problem}`);
    }
    await next();
  };
}

/** PostgreSQL's class 22 (data exception: out of range, invalid text, bad date…) is the caller's input. */
export function isDataError(state: string | undefined): boolean {
  return state !== undefined && state.startsWith("22");
}
