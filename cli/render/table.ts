/**
 * Plain tables for listings. When the terminal is too narrow, the columns with the lowest priority are
 * dropped first (as `pm2 ls` does), then the widest remaining column is cut.
 */
import { padEnd, padStart, paint, truncate, visibleWidth } from "./ansi.ts";

export interface TableOptions {
  color?: boolean;
  /** Terminal width; defaults to the real one, or unlimited when stdout is not a terminal. */
  width?: number;
  /** Per column: higher stays longer when space runs out (default: 0 for every column). */
  priority?: number[];
  /** Per column: "r" right-aligns numbers. */
  align?: ("l" | "r")[];
}

/** The terminal's width; off a terminal, COLUMNS when set (scripts and tests fix the width with it). */
export function terminalWidth(): number | undefined {
  try {
    // Some pseudo-terminals report 0 columns: then COLUMNS (or no limit) is the better guess.
    if (Deno.stdout.isTerminal() && Deno.consoleSize().columns > 0) return Deno.consoleSize().columns;
  } catch { /* not a console after all */ }
  const columns = Number(Deno.env.get("COLUMNS"));
  return Number.isInteger(columns) && columns > 0 ? columns : undefined;
}

export function renderTable(headers: string[], rows: string[][], opts: TableOptions = {}): string {
  const width = opts.width ?? terminalWidth() ?? Infinity;
  let cols = headers.map((_, i) => i);
  const natural = (i: number) =>
    Math.max(visibleWidth(headers[i]), ...rows.map((r) => visibleWidth(r[i] ?? "")));
  const total = (set: number[]) => set.reduce((sum, i) => sum + natural(i), 0) + 2 * (set.length - 1);
  const priority = (i: number) => opts.priority?.[i] ?? 0;
  while (cols.length > 1 && total(cols) > width) {
    // Drop the lowest-priority column (the rightmost among equals) while any column has lower priority.
    const min = Math.min(...cols.map(priority));
    const max = Math.max(...cols.map(priority));
    if (min === max) break;
    const victim = [...cols].reverse().find((i) => priority(i) === min)!;
    cols = cols.filter((i) => i !== victim);
  }
  const widths = new Map(cols.map((i) => [i, natural(i)]));
  let over = total(cols) - width;
  while (over > 0) {
    const widest = cols.reduce((a, b) => (widths.get(b)! > widths.get(a)! ? b : a));
    const w = widths.get(widest)!;
    if (w <= 6) break;
    const cut = Math.min(over, w - 6);
    widths.set(widest, w - cut);
    over -= cut;
  }
  const line = (cells: string[], head: boolean) =>
    cols.map((i, n) => {
      const w = widths.get(i)!;
      const text = truncate(cells[i] ?? "", w);
      const last = n === cols.length - 1;
      const aligned = opts.align?.[i] === "r" ? padStart(text, w) : last ? text : padEnd(text, w);
      return head ? paint(aligned, "bold", opts.color ?? false) : aligned;
    }).join("  ").trimEnd();
  return [line(headers, true), ...rows.map((r) => line(r, false))].join("\n");
}

export function printTable(headers: string[], rows: string[][], opts: TableOptions = {}): void {
  console.log(renderTable(headers, rows, opts));
}
