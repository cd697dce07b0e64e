/** Checks of command-line values, with errors that say what was expected (exit code 2). */
import { AppError } from "../lib/errors.ts";

export function parseRunnerId(text: string): number {
  if (!/^[1-9]\d{0,14}$/.test(text)) {
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
