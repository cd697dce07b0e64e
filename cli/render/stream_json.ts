/** Claude Code's stream-json output (a detached runner's log) as coloured lines for the terminal. */
import { type LineKind, readableLines } from "../../lib/claude/stream_json.ts";
import { paint } from "./ansi.ts";

const COLOUR: Partial<Record<LineKind, Parameters<typeof paint>[1]>> = {
  init: "cyan",
  tool: "yellow",
  "result-tool": "gray",
  done: "green",
  error: "red",
};

/** One log line → zero or more display lines. */
export function renderStreamLine(line: string, color: boolean): string[] {
  return readableLines(line, 100).map((l) => {
    const c = COLOUR[l.kind];
    return c ? paint(l.text, c, color) : l.text;
  });
}
