/** Numbers, sizes, durations and ages as the dashboard shows them. */
import { formatBytes } from "../../lib/format.ts";
export { tokenTotal } from "../../lib/tokens.ts";

/** 950, 12.3k, 4.56M, 1.2B */
export function compact(n: number): string {
  const a = Math.abs(n);
  if (a < 1000) return String(Math.round(n));
  const [d, s] = a < 1e6 ? [1e3, "k"] : a < 1e9 ? [1e6, "M"] : [1e9, "B"];
  const v = n / d;
  return `${v.toFixed(Math.abs(v) < 10 ? 2 : Math.abs(v) < 100 ? 1 : 0)}${s}`;
}

export function grouped(n: number): string {
  return Math.round(n).toLocaleString("en-US");
}

/** 512 B, 45.7 MiB, 1.2 GiB (lib/format.ts, as the CLI shows them). */
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

/** 45s, 3m 12s, 2h 05m, 3d 4h */
export function span(ms: number): string {
  const s = Math.max(0, Math.floor(ms / 1000));
  if (s < 60) return `${s}s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m}m ${String(s % 60).padStart(2, "0")}s`;
  const h = Math.floor(m / 60);
  if (h < 48) return `${h}h ${String(m % 60).padStart(2, "0")}m`;
  return `${Math.floor(h / 24)}d ${h % 24}h`;
}

export function age(iso: string | null | undefined, now: number): string {
  if (!iso) return "never";
  return `${span(now - Date.parse(iso))} ago`;
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
