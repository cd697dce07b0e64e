/** Checks of command-line values, with errors that say what was expected (exit code 2). */
import { AppError } from "../lib/errors.ts";
import { splitShellWords } from "../lib/shell_words.ts";
import { ID_RE } from "../lib/ids.ts";

export function parseRunnerId(text: string): number {
  if (!ID_RE.test(text)) {
    throw new AppError(
      "usage",
      `"${text}" is not a runner id: expected a number such as 42 (see "stratavore runners")`,
    );
  }
  return Number(text);
}

export function parseWholeNumber(what: string, text: string, min = 0): number {
  if (!/^\d{1,9}$/.test(text) || Number(text) < min) {
    throw new AppError(
      "usage",
      `${what} must be a whole number${min > 0 ? ` of at least ${min}` : ""}, not "${text}"`,
    );
  }
  return Number(text);
}

/** Splits a command line the way a POSIX shell would; an unclosed quote is a usage error. */
export function splitArgs(text: string): string[] {
  try {
    return splitShellWords(text);
  } catch (e) {
    throw new AppError("usage", `${(e as Error).message} in "${text}"`);
  }
}

/** One of a fixed set of words, or a usage error listing them. */
export function parseChoice<T extends string>(what: string, text: string, choices: readonly T[]): T {
  if ((choices as readonly string[]).includes(text)) return text as T;
  throw new AppError("usage", `${what} must be one of ${choices.join(", ")}, not "${text}"`);
}
