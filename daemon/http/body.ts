/**
 * Reading request input: bodies up to 1 MiB, JSON only, checked against a strict zod schema; path and
 * query values checked too. Every failure is an AppError that the error handler turns into a 4xx JSON body.
 */
import type { Context } from "hono";
import type { z } from "zod";
import { AppError } from "../../lib/errors.ts";
import { textProblem } from "../../lib/schemas/common.ts";

export const MAX_BODY_BYTES = 1024 * 1024;

export function tooLarge(limit: number): AppError {
  return new AppError(
    "payload_too_large",
    `request body is larger than ${limit} bytes (${Math.round(limit / 1024 / 1024 * 10) / 10} MiB)`,
  );
}

/** The client went away (or reset the connection) mid-body: its fault, not a server error. */
export function cutOff(): AppError {
  return new AppError("bad_request", "the request body was cut off before its end");
}

/** The body as UTF-8 text, refused past `limit` bytes (of the stream given: decompress before, if need be). */
export async function readText(
  req: Request,
  limit = MAX_BODY_BYTES,
  body: ReadableStream<Uint8Array> | null = req.body,
  inOneGo = true,
): Promise<string> {
  const declared = Number(req.headers.get("content-length") ?? "NaN");
  if (body === req.body && Number.isFinite(declared) && declared > limit) throw tooLarge(limit);
  if (!body) return "";
  if (inOneGo && body === req.body && Number.isFinite(declared)) {
    // A declared length within the limit (the server holds the body to it): read it in one go.
    let bytes: ArrayBuffer;
    try {
      bytes = await req.arrayBuffer();
    } catch {
      throw cutOff();
    }
    return decodeUtf8(new Uint8Array(bytes));
  }
  const reader = body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    let next: ReadableStreamReadResult<Uint8Array>;
    try {
      next = await reader.read();
    } catch {
      throw cutOff();
    }
    const { done, value } = next;
    if (done) break;
    size += value.byteLength;
    if (size > limit) {
      await reader.cancel().catch(() => {});
      throw tooLarge(limit);
    }
    chunks.push(value);
  }
  const all = new Uint8Array(size);
  let at = 0;
  for (const c of chunks) {
    all.set(c, at);
    at += c.byteLength;
  }
  return decodeUtf8(all);
}

const utf8 = new TextDecoder("utf-8", { fatal: true });

export function decodeUtf8(bytes: Uint8Array): string {
  try {
    return utf8.decode(bytes);
  } catch {
    throw new AppError("invalid_json", "request body is not valid UTF-8");
  }
}

/** The first string (value or key) anywhere in a parsed JSON body that cannot be stored as text. */
export function badText(value: unknown, path = "(body)"): { path: string; problem: string } | undefined {
  if (typeof value === "string") {
    const problem = textProblem(value);
    return problem ? { path, problem } : undefined;
  }
  if (typeof value !== "object" || value === null) return undefined;
  for (const [k, v] of Object.entries(value)) {
    const at = path === "(body)" ? k : `${path}.${k}`;
    const keyProblem = textProblem(k);
    if (keyProblem) return { path: at, problem: `key ${keyProblem}` };
    const inner = badText(v, at);
    if (inner) return inner;
  }
  return undefined;
}

export function zodDetails(error: z.ZodError): { path: string; message: string }[] {
  return error.issues.map((i) => ({ path: i.path.map(String).join(".") || "(body)", message: i.message }));
}

function describeIssues(details: { path: string; message: string }[]): string {
  return details.slice(0, 3).map((d) => `${d.path}: ${d.message}`).join("; ");
}

export interface ReadOptions {
  /**
   * The handler then waits on the request's signal for the client to go away (a held permission hook).
   * Observed with Deno 2.9 and Claude Code's hook requests: after `arrayBuffer()` the signal never aborts
   * when the client closes the connection; after reading the body stream to its end it does.
   */
  watchesClient?: boolean;
}

/** Parses and validates the JSON body; an empty body is `undefined` when the schema allows it. */
export async function readBody<S extends z.ZodType>(
  c: Context,
  schema: S,
  opts: ReadOptions = {},
): Promise<z.output<S>> {
  return (await readBodyAndText(c, schema, opts)).value;
}

/** readBody, also returning the body's text as received (for signatures over it). */
export async function readBodyAndText<S extends z.ZodType>(
  c: Context,
  schema: S,
  opts: ReadOptions = {},
): Promise<{ value: z.output<S>; text: string }> {
  const text = await readText(c.req.raw, MAX_BODY_BYTES, c.req.raw.body, !opts.watchesClient);
  return { value: parseBodyText(text, c.req.header("content-type"), schema), text };
}

/**
 * The body's text parsed as JSON and checked against the schema. `known` (the heartbeat's hot path) may
 * vouch for a parsed value that it checked itself: it must accept only values the schema accepts unchanged,
 * and whatever it does not vouch for goes through the full checks and their error messages.
 */
export function parseBodyText<S extends z.ZodType>(
  text: string,
  contentType: string | undefined,
  schema: S,
  known?: (value: unknown) => value is z.output<S>,
): z.output<S> {
  let value: unknown = undefined;
  if (text.trim() !== "") {
    const type = contentType ?? "";
    if (!/^application\/(.+\+)?json\b/i.test(type)) {
      throw new AppError(
        "unsupported_media_type",
        `request body must be JSON (Content-Type: application/json), not "${type || "none"}"`,
      );
    }
    try {
      value = JSON.parse(text);
    } catch (e) {
      throw new AppError("invalid_json", `request body is not valid JSON: ${(e as Error).message}`);
    }
    if (known?.(value)) return value;
    const bad = badText(value);
    if (bad) {
      throw new AppError("invalid_body", `invalid request body: ${bad.path}: ${bad.problem}`, {
        details: [{ path: bad.path, message: bad.problem }],
      });
    }
  }
  const r = schema.safeParse(value);
  if (!r.success) {
    const details = zodDetails(r.error);
    const message = value === undefined
      ? "request body is required (JSON)"
      : `invalid request body: ${describeIssues(details)}`;
    throw new AppError("invalid_body", message, { details });
  }
  return r.data;
}

/** Validates a path or query value (e.g. a runner id) against a schema, naming it when it is wrong. */
export function readParam<S extends z.ZodType>(
  what: string,
  value: string | undefined,
  schema: S,
): z.output<S> {
  const problem = typeof value === "string" ? textProblem(value) : undefined;
  const r = problem ? undefined : schema.safeParse(value);
  if (!r?.success) {
    if (!r) throw new AppError("bad_request", `invalid ${what}: ${problem}`);
    throw new AppError(
      "bad_request",
      `invalid ${what} ${JSON.stringify(value ?? "")}: ${r.error.issues[0]?.message}`,
      {
        details: zodDetails(r.error),
      },
    );
  }
  return r.data;
}
