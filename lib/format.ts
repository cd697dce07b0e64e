/**
 * Sizes, counts, spans and ages as the CLI, the web dashboard and the notifications all show them. No zod and
 * no Deno API here: the web bundle imports it.
 */

/** Powers of 1024 with their IEC names (KiB, MiB, GiB, TiB), one decimal below 100 of a unit. */
export function formatBytes(n: number): string {
  if (n < 1024) return `${Math.round(n)} B`;
  const units = ["KiB", "MiB", "GiB", "TiB"];
  let v = n / 1024;
  let i = 0;
  while (v >= 1023.95 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return `${v < 99.95 ? v.toFixed(1) : Math.round(v)} ${units[i]}`;
}

/** 999, 12.3k, 456k, 4.5M, 1.2B: one decimal below 100 of a unit; "-" when not a number. */
export function formatCount(n: number): string {
  if (!Number.isFinite(n)) return "-";
  const abs = Math.abs(n);
  if (abs < 999.5) return String(Math.round(n));
  const [unit, size] = abs >= 999.5e6 ? ["B", 1e9] : abs >= 999.5e3 ? ["M", 1e6] : ["k", 1e3];
  const v = n / size;
  return `${Math.abs(v) < 99.95 ? v.toFixed(1) : Math.round(v)}${unit}`;
}

/** A span in at most two units, written as durations are typed: 45s, 3m12s, 2h5m, 4d7h, 45d, 2y30d. */
export function formatSpan(ms: number): string {
  const s = Math.max(0, Math.floor(ms / 1000));
  if (s < 60) return `${s}s`;
  const m = Math.floor(s / 60);
  if (m < 60) return two(m, "m", s % 60, "s");
  const h = Math.floor(m / 60);
  if (h < 24) return two(h, "h", m % 60, "m");
  const d = Math.floor(h / 24);
  if (d < 365) return d < 10 ? two(d, "d", h % 24, "h") : `${d}d`;
  return two(Math.floor(d / 365), "y", d % 365, "d");
}

function two(a: number, ua: string, b: number, ub: string): string {
  return b ? `${a}${ua}${b}${ub}` : `${a}${ua}`;
}

/** How long before `now` an ISO time was: "3m12s ago"; "-" when there is none. */
export function formatAge(iso: string | null | undefined, now: number): string {
  if (!iso) return "-";
  return `${formatSpan(now - Date.parse(iso))} ago`;
}
