/** Turns any error into one readable line on stderr and the right exit code; stacks only for real bugs. */
import { isAppError } from "../lib/errors.ts";

export function reportError(e: unknown): number {
  if (isAppError(e)) {
    // "stratavore daemon is not running at …" already names the program: no "stratavore: " before it.
    console.error(e.message.startsWith("stratavore ") ? e.message : `stratavore: ${e.message}`);
    return e.exitCode;
  }
  console.error("stratavore: unexpected error (this is a bug; please report it with the lines below)");
  console.error(e instanceof Error ? e.stack ?? e.message : String(e));
  return 1;
}
