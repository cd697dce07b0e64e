/** Numbers, sizes, durations and ages as the dashboard shows them: the shared ones come from lib/format.ts. */
import { formatAge, formatBytes, formatCount, formatSpan } from "../../lib/format.ts";
export { tokenTotal } from "../../lib/tokens.ts";

/** Token counts as the CLI shows them: 950, 12.3k, 4.5M, 1.2B (lib/format.ts). */
export const compact = formatCount;

export function grouped(n: number): string {
  return Math.round(n).toLocaleString("en-US");
}

/** 512 B, 45.7 MiB, 1.2 GiB (lib/format.ts). */
export function bytes(n: number | null | undefined): string {
  return n === null || n === undefined ? "–" : formatBytes(n);
}

export function percent(n: number | null | undefined): string {
  if (n === null || n === undefined) return "–";
  return `${n.toFixed(n < 10 ? 1 : 0)}%`;
}

export function usd(n: number): string {
  return n < 0.01 && n > 0 ? `$${n.toFixed(4)}` : `$${n.toFixed(2)}`;
}

/** Spans as the CLI shows them: 45s, 3m12s, 2h5m, 4d7h (lib/format.ts). */
export const span = formatSpan;

export function age(iso: string | null | undefined, now: number): string {
  return iso ? formatAge(iso, now) : "never";
}

export function time(iso: string | null | undefined): string {
  if (!iso) return "–";
  const d = new Date(iso);
  return d.toLocaleString(undefined, {
    year: "numeric",
    month: "short",
    day: "numeric",
    hour: "2-digit",
    minute: "2-digit",
    second: "2-digit",
  });
}

export function clock(iso: string): string {
  return new Date(iso).toLocaleTimeString(undefined, {
    hour: "2-digit",
    minute: "2-digit",
    second: "2-digit",
  });
}

/** YYYY-MM-DD of a UTC day (usage is booked per UTC day). */
export function utcDay(ms: number): string {
  return new Date(ms).toISOString().slice(0, 10);
}

export { splitShellWords as splitArgs } from "../../lib/shell_words.ts";

/** One CSV field (RFC 4180): quoted when it holds a comma, quote or line break. */
export function csvField(v: string | number): string {
  const s = String(v);
  return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

export function csv(rows: (string | number)[][]): string {
  return rows.map((r) => r.map(csvField).join(",")).join("\r\n") + "\r\n";
}
