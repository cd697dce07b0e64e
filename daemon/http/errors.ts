/**
 * The one shape every failed request answers with, `{"error":{"code","message","details"}}`: hono's error
 * handler (app.ts) and the heartbeat's fast path (routes/heartbeat.ts) both answer through here.
 */
import { HTTPException } from "hono/http-exception";
import { isAppError } from "../../lib/errors.ts";
import { sqlState } from "../../lib/db/types.ts";
import type { Logger } from "../../lib/log.ts";
import { isDataError } from "./input.ts";

export function errorResponse(log: Logger, err: Error, method: string, path: string): Response {
  if (isAppError(err)) return Response.json(err.toJSON(), { status: err.status });
  if (err instanceof HTTPException) {
    const status = err.status;
    return Response.json({
      error: { code: status === 413 ? "payload_too_large" : "bad_request", message: err.message },
    }, { status });
  }
  // A safety net behind the schemas: a value the database refuses as data is the caller's input.
  if (isDataError(sqlState(err))) {
    log.warn("the database refused a value in a request", { method, path, error: err });
    return Response.json({ error: { code: "bad_request", message: `invalid value: ${err.message}` } }, {
      status: 400,
    });
  }
  log.error("unexpected error in request", { method, path, error: err });
  return Response.json(
    { error: { code: "internal", message: "internal error; the daemon log has the details" } },
    { status: 500 },
  );
}
