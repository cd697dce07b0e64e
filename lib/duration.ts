/**
 * Human durations ("500ms", "10s", "2m", "1h", "7d", and as they are shown: "1d23h", "3m12s") to
 * milliseconds, and back for display: what `stratavore config` shows can be set again as it is.
 */
import { formatSpan } from "./format.ts";

const UNITS: Record<string, number> = {
  ms: 1,
  s: 1000,
  m: 60_000,
  h: 3_600_000,
  d: 86_400_000,
  y: 365 * 86_400_000,
};

/** One amount ("10s") or several, largest unit first, as durations are shown ("1d23h", "3m12s"). */
export function parseDuration(text: string): number | undefined {
  const t = text.trim();
  if (!/^(\d+(?:\.\d+)?\s*(ms|s|m|h|d|y)\s*)+$/.test(t)) return undefined;
  let total = 0;
  let last = Infinity;
  for (const [, n, unit] of t.matchAll(/(\d+(?:\.\d+)?)\s*(ms|s|m|h|d|y)/g)) {
    // "1h30m" but not "30m1h" or "1h1h": each unit smaller than the one before.
    if (UNITS[unit] >= last) return undefined;
    last = UNITS[unit];
    total += Number(n) * UNITS[unit];
  }
  return Math.round(total);
}

/** A setting's duration as `stratavore config` shows it: "250ms" below a second, else a span as the CLI and web write it. */
export function formatDuration(ms: number): string {
  return ms < 1000 ? `${Math.round(ms)}ms` : formatSpan(ms);
}
