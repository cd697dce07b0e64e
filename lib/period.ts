/**
 * Budget periods on calendar boundaries in a time zone: a day starts at local midnight, a week on Monday,
 * a month on the 1st. Pure functions of an instant (the clock is injected), built on Intl only.
 */

export const PERIODS = ["day", "week", "month", "none"] as const;
export type Period = typeof PERIODS[number];

interface Local {
  year: number;
  month: number; // 1-12
  day: number;
  hour: number;
  minute: number;
  second: number;
  weekday: number; // 1 = Monday … 7 = Sunday
}

const formatters = new Map<string, Intl.DateTimeFormat>();

function formatter(tz: string): Intl.DateTimeFormat {
  let f = formatters.get(tz);
  if (!f) {
    f = new Intl.DateTimeFormat("en-US", {
      timeZone: tz,
      hourCycle: "h23",
      year: "numeric",
      month: "2-digit",
      day: "2-digit",
      hour: "2-digit",
      minute: "2-digit",
      second: "2-digit",
      weekday: "short",
    });
    formatters.set(tz, f);
  }
  return f;
}

const WEEKDAYS: Record<string, number> = { Mon: 1, Tue: 2, Wed: 3, Thu: 4, Fri: 5, Sat: 6, Sun: 7 };

/** The wall-clock reading in `tz` at instant `ms`. */
export function localParts(ms: number, tz: string): Local {
  const p = Object.fromEntries(formatter(tz).formatToParts(new Date(ms)).map((x) => [x.type, x.value]));
  return {
    year: Number(p.year),
    month: Number(p.month),
    day: Number(p.day),
    hour: Number(p.hour),
    minute: Number(p.minute),
    second: Number(p.second),
    weekday: WEEKDAYS[p.weekday],
  };
}

/** Offset of `tz` from UTC at instant `ms`, in milliseconds (local = UTC + offset). */
function offsetAt(ms: number, tz: string): number {
  const l = localParts(ms, tz);
  const asUtc = Date.UTC(l.year, l.month - 1, l.day, l.hour, l.minute, l.second);
  return asUtc - Math.floor(ms / 1000) * 1000;
}

/**
 * The first instant whose local time in `tz` is at or after the given local midnight. Where that midnight
 * does not exist (a DST jump at 00:00), the day starts when the clocks jump.
 */
export function localMidnight(year: number, month: number, day: number, tz: string): number {
  const wall = Date.UTC(year, month - 1, day);
  // Two rounds of offset correction settle every zone, including across a transition.
  let t = wall - offsetAt(wall, tz);
  t = wall - offsetAt(t, tz);
  const l = localParts(t, tz);
  const got = Date.UTC(l.year, l.month - 1, l.day, l.hour, l.minute, l.second);
  if (got < wall) {
    // Midnight was skipped: move forward to the jump, found by halving the interval.
    let lo = t;
    let hi = t + 3 * 3_600_000;
    while (hi - lo > 1000) {
      const mid = Math.floor((lo + hi) / 2);
      const m = localParts(mid, tz);
      if (Date.UTC(m.year, m.month - 1, m.day, m.hour, m.minute, m.second) >= wall) hi = mid;
      else lo = mid;
    }
    return hi;
  }
  return t;
}

/** Start of the period containing `at` (for "none": the epoch, a period that never ends). */
export function periodStart(period: Period, tz: string, at: number): number {
  if (period === "none") return 0;
  const l = localParts(at, tz);
  if (period === "day") return localMidnight(l.year, l.month, l.day, tz);
  if (period === "month") return localMidnight(l.year, l.month, 1, tz);
  // week: back to Monday, on the calendar (not by 7×24 h, which a DST change would break)
  const d = new Date(Date.UTC(l.year, l.month - 1, l.day - (l.weekday - 1)));
  return localMidnight(d.getUTCFullYear(), d.getUTCMonth() + 1, d.getUTCDate(), tz);
}

/** Start of the next period after the one containing `at`; null for "none". */
export function periodEnd(period: Period, tz: string, at: number): number | null {
  if (period === "none") return null;
  const start = periodStart(period, tz, at);
  const l = localParts(start, tz);
  if (period === "day") {
    const d = new Date(Date.UTC(l.year, l.month - 1, l.day + 1));
    return localMidnight(d.getUTCFullYear(), d.getUTCMonth() + 1, d.getUTCDate(), tz);
  }
  if (period === "week") {
    const d = new Date(Date.UTC(l.year, l.month - 1, l.day + 7));
    return localMidnight(d.getUTCFullYear(), d.getUTCMonth() + 1, d.getUTCDate(), tz);
  }
  const d = new Date(Date.UTC(l.year, l.month, 1));
  return localMidnight(d.getUTCFullYear(), d.getUTCMonth() + 1, 1, tz);
}
