import { assertEquals } from "../helpers/assert.ts";
import { localParts, periodEnd, periodStart } from "../../lib/period.ts";

const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());
const at = (s: string) => Date.parse(s);

Deno.test("period: UTC day, week (Monday) and month boundaries", () => {
  const t = at("2026-11-25T15:30:00Z"); // a Wednesday
  assertEquals(iso(periodStart("day", "UTC", t)), "2026-11-25T00:00:00.000Z");
  assertEquals(iso(periodEnd("day", "UTC", t)), "2026-11-26T00:00:00.000Z");
  assertEquals(iso(periodStart("week", "UTC", t)), "2026-11-23T00:00:00.000Z");
  assertEquals(iso(periodEnd("week", "UTC", t)), "2026-11-30T00:00:00.000Z");
  assertEquals(iso(periodStart("month", "UTC", t)), "2026-11-01T00:00:00.000Z");
  assertEquals(iso(periodEnd("month", "UTC", t)), "2026-12-01T00:00:00.000Z");
  assertEquals(periodStart("none", "UTC", t), 0);
  assertEquals(periodEnd("none", "UTC", t), null);
  // A Sunday belongs to the week that began the Monday before.
  assertEquals(iso(periodStart("week", "UTC", at("2026-11-29T23:59:59Z"))), "2026-11-23T00:00:00.000Z");
});

Deno.test("period: month end rolls over at the first instant of the next month", () => {
  assertEquals(iso(periodStart("month", "UTC", at("2026-01-31T23:59:59.999Z"))), "2026-01-01T00:00:00.000Z");
  assertEquals(iso(periodStart("month", "UTC", at("2026-02-01T00:00:00Z"))), "2026-02-01T00:00:00.000Z");
  assertEquals(iso(periodEnd("month", "UTC", at("2026-12-15T00:00:00Z"))), "2027-01-01T00:00:00.000Z");
});

Deno.test("period: leap day is a day of its own and February 2028 has 29 of them", () => {
  assertEquals(iso(periodStart("day", "UTC", at("2028-02-29T12:00:00Z"))), "2028-02-29T00:00:00.000Z");
  assertEquals(iso(periodEnd("day", "UTC", at("2028-02-29T12:00:00Z"))), "2028-03-01T00:00:00.000Z");
  assertEquals(iso(periodEnd("month", "UTC", at("2028-02-10T00:00:00Z"))), "2028-03-01T00:00:00.000Z");
  assertEquals(iso(periodEnd("day", "UTC", at("2027-02-28T12:00:00Z"))), "2027-03-01T00:00:00.000Z");
});

Deno.test("period: local midnights in a non-UTC zone, across the spring and autumn DST changes", () => {
  const tz = "Europe/Berlin";
  // 29 March 2026: clocks go 02:00 → 03:00; the day is 23 hours long.
  const spring = at("2026-03-29T12:00:00Z");
  assertEquals(iso(periodStart("day", tz, spring)), "2026-03-28T23:00:00.000Z");
  assertEquals(iso(periodEnd("day", tz, spring)), "2026-03-29T22:00:00.000Z");
  // 25 October 2026: 03:00 → 02:00; 25 hours long.
  const autumn = at("2026-10-25T12:00:00Z");
  assertEquals(iso(periodStart("day", tz, autumn)), "2026-10-24T22:00:00.000Z");
  assertEquals(iso(periodEnd("day", tz, autumn)), "2026-10-25T23:00:00.000Z");
  // The week containing the change starts on Monday 23 March, local midnight (still CET).
  assertEquals(iso(periodStart("week", tz, spring)), "2026-03-22T23:00:00.000Z");
  assertEquals(iso(periodEnd("week", tz, spring)), "2026-03-29T22:00:00.000Z");
  // Months: November starts in CET, April in CEST.
  assertEquals(iso(periodStart("month", tz, at("2026-11-15T00:00:00Z"))), "2026-10-31T23:00:00.000Z");
  assertEquals(iso(periodStart("month", tz, at("2026-04-15T00:00:00Z"))), "2026-03-31T22:00:00.000Z");
  // Just before local midnight is still the old day; just after is the new one.
  assertEquals(iso(periodStart("day", tz, at("2026-11-25T22:59:59Z"))), "2026-11-24T23:00:00.000Z");
  assertEquals(iso(periodStart("day", tz, at("2026-11-25T23:00:00Z"))), "2026-11-25T23:00:00.000Z");
});

Deno.test("period: where midnight does not exist (DST at 00:00), the day starts at the jump", () => {
  const tz = "America/Santiago"; // 6 September 2026: 00:00 → 01:00
  const start = periodStart("day", tz, at("2026-09-06T15:00:00Z"));
  const l = localParts(start, tz);
  assertEquals([l.year, l.month, l.day, l.hour, l.minute], [2026, 9, 6, 1, 0]);
  assertEquals(iso(periodEnd("day", tz, at("2026-09-05T15:00:00Z"))), iso(start));
});

Deno.test("period: zones east of UTC roll over before UTC does", () => {
  const tz = "Asia/Tokyo";
  assertEquals(iso(periodStart("month", tz, at("2026-11-30T16:00:00Z"))), "2026-11-30T15:00:00.000Z");
  assertEquals(iso(periodStart("day", tz, at("2026-11-30T14:59:59Z"))), "2026-11-29T15:00:00.000Z");
});
