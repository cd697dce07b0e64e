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

/** Splits a command line the way a POSIX shell would ('single', "double", backslash escapes). */
export function splitArgs(text: string): string[] {
  const out: string[] = [];
  let word = "";
  let inWord = false;
  let quote: "'" | '"' | undefined;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (quote === "'") {
      if (c === "'") quote = undefined;
      else word += c;
    } else if (quote === '"') {
      if (c === '"') quote = undefined;
      else if (c === "\\" && i + 1 < text.length && '"\\$`'.includes(text[i + 1])) word += text[++i];
      else word += c;
    } else if (c === "'" || c === '"') {
      quote = c;
      inWord = true;
    } else if (c === "\\" && i + 1 < text.length) {
      word += text[++i];
      inWord = true;
    } else if (/\s/.test(c)) {
      if (inWord) out.push(word);
      word = "";
      inWord = false;
    } else {
      word += c;
      inWord = true;
    }
  }
  if (quote) throw new AppError("usage", `unclosed ${quote} in "${text}"`);
  if (inWord) out.push(word);
  return out;
}

/** One of a fixed set of words, or a usage error listing them. */
export function parseChoice<T extends string>(what: string, text: string, choices: readonly T[]): T {
  if ((choices as readonly string[]).includes(text)) return text as T;
  throw new AppError("usage", `${what} must be one of ${choices.join(", ")}, not "${text}"`);
}
