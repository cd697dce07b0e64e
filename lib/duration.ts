/** Human durations ("500ms", "10s", "2m", "1h", "7d") to milliseconds, and back for display. */
import { formatSpan } from "./format.ts";

const UNITS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

export function parseDuration(text: string): number | undefined {
  const m = /^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h|d)\s*$/.exec(text);
  if (!m) return undefined;
  return Math.round(Number(m[1]) * UNITS[m[2]]);
}

/** A setting's duration as `stratavore config` shows it: "250ms" below a second, else a span as the CLI and web write it. */
export function formatDuration(ms: number): string {
  return ms < 1000 ? `${Math.round(ms)}ms` : formatSpan(ms);
}
