/** The few assertions the suite uses (jsr:@std/assert is not reachable here). */
import { deepStrictEqual } from "node:assert";

export class AssertionError extends Error {
  override name = "AssertionError";
}

export function assert(cond: unknown, msg = "assertion failed"): asserts cond {
  if (!cond) throw new AssertionError(msg);
}

export function assertEquals<T>(actual: T, expected: T, msg?: string): void {
  try {
    deepStrictEqual(actual, expected);
  } catch {
    throw new AssertionError(
      `${msg ? msg + ": " : ""}values differ\n  actual:   ${
        Deno.inspect(actual, { depth: 6 })
      }\n  expected: ${Deno.inspect(expected, { depth: 6 })}`,
    );
  }
}

export function assertNotEquals<T>(actual: T, expected: T, msg?: string): void {
  let same = true;
  try {
    deepStrictEqual(actual, expected);
  } catch {
    same = false;
  }
  if (same) {
    throw new AssertionError(
      `${msg ? msg + ": " : ""}expected a different value than ${Deno.inspect(actual)}`,
    );
  }
}

export function assertMatch(actual: string, re: RegExp, msg?: string): void {
  if (!re.test(actual)) {
    throw new AssertionError(`${msg ? msg + ": " : ""}${JSON.stringify(actual)} does not match ${re}`);
  }
}

export function assertStringIncludes(actual: string, part: string, msg?: string): void {
  if (!actual.includes(part)) {
    throw new AssertionError(
      `${msg ? msg + ": " : ""}expected ${JSON.stringify(actual)} to include ${JSON.stringify(part)}`,
    );
  }
}

// deno-lint-ignore no-explicit-any
type Ctor<E> = new (...args: any[]) => E;

export function assertThrows<E extends Error = Error>(
  fn: () => unknown,
  type?: Ctor<E>,
  includes?: string,
): E {
  try {
    fn();
  } catch (e) {
    if (type && !(e instanceof type)) throw new AssertionError(`expected ${type.name}, got ${e}`);
    if (includes && !(e as Error).message.includes(includes)) {
      throw new AssertionError(
        `error message ${JSON.stringify((e as Error).message)} lacks ${JSON.stringify(includes)}`,
      );
    }
    return e as E;
  }
  throw new AssertionError("expected the function to throw");
}

export async function assertRejects<E extends Error = Error>(
  fn: () => Promise<unknown>,
  type?: Ctor<E>,
  includes?: string,
): Promise<E> {
  try {
    await fn();
  } catch (e) {
    if (type && !(e instanceof type)) throw new AssertionError(`expected ${type.name}, got ${e}`);
    if (includes && !(e as Error).message.includes(includes)) {
      throw new AssertionError(
        `error message ${JSON.stringify((e as Error).message)} lacks ${JSON.stringify(includes)}`,
      );
    }
    return e as E;
  }
  throw new AssertionError("expected the promise to reject");
}

/**
 * How much longer than written a test waits before giving up on something that should happen
 * (`STRATAVORE_TEST_TIMEOUT_SCALE`, 1 by default; `deno task test` runs four files at once on a shared
 * machine and sets 3). Only give-up bounds scale: a test that measures a latency keeps its own figure.
 */
export const TIMEOUT_SCALE = Math.max(1, Number(Deno.env.get("STRATAVORE_TEST_TIMEOUT_SCALE") ?? 1) || 1);

/** Polls until fn returns a truthy value (bounded in time), returning it. */
export async function eventually<T>(
  fn: () => T,
  timeoutMs = 10_000,
  what = "condition",
): Promise<NonNullable<Awaited<T>>> {
  timeoutMs *= TIMEOUT_SCALE;
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  while (Date.now() < deadline) {
    try {
      const v = await fn();
      if (v) return v as NonNullable<Awaited<T>>;
      last = v;
    } catch (e) {
      last = e;
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new AssertionError(`${what} not reached in ${timeoutMs} ms (last: ${Deno.inspect(last)})`);
}
