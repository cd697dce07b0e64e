/** GET /api/v1/usage?project=&since=&until=&by=day|project|model|session: token and cost report. */
import { z } from "zod";
import { costSummaryOf } from "../../lib/cost.ts";
import { calendarDay, projectName } from "../../lib/schemas/common.ts";
import { USAGE_GROUPS, type UsageReport, type UsageRow } from "../../lib/schemas/session.ts";
import { readParam } from "../http/body.ts";
import { type Route, Routes } from "../http/route.ts";
import type { Services } from "../services.ts";
import { tokenTotal } from "../../lib/tokens.ts";
import { type UsageSums, usageSums } from "../store/usage.ts";

const day = calendarDay.optional();

function toRow(r: UsageSums): UsageRow {
  const cost = costSummaryOf(r.cost_usd, r.reported_usd, r.unpriced);
  return {
    key: r.key,
    input: r.input,
    output: r.output,
    cacheCreation: r.cache_creation,
    cacheRead: r.cache_read,
    total: tokenTotal({
      input: r.input,
      output: r.output,
      cacheCreation: r.cache_creation,
      cacheRead: r.cache_read,
    }),
    costUsd: cost.usd,
    cost,
  };
}

export function usageRoutes(s: Services): Route[] {
  const app = new Routes("/usage");
  app.get("/", { auth: "admin" }, async (c) => {
    const by = readParam("by", c.req.query("by") ?? "day", z.enum(USAGE_GROUPS));
    const project = c.req.query("project") ? readParam("project", c.req.query("project"), projectName) : null;
    const since = readParam("since", c.req.query("since"), day) ?? null;
    const until = readParam("until", c.req.query("until"), day) ?? null;
    const rows = await usageSums(s.db, by, { project, since, until });
    const list = rows.map(toRow);
    const total = toRow(rows.reduce<UsageSums>((t, r) => ({
      key: "total",
      input: t.input + r.input,
      output: t.output + r.output,
      cache_creation: t.cache_creation + r.cache_creation,
      cache_read: t.cache_read + r.cache_read,
      cost_usd: t.cost_usd + r.cost_usd,
      reported_usd: t.reported_usd + r.reported_usd,
      unpriced: t.unpriced + r.unpriced,
    }), {
      key: "total",
      input: 0,
      output: 0,
      cache_creation: 0,
      cache_read: 0,
      cost_usd: 0,
      reported_usd: 0,
      unpriced: 0,
    }));
    const report: UsageReport = { by, since, until, project, rows: list, total };
    return c.json(report);
  });
  return app.list;
}
