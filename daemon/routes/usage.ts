/** GET /api/v1/usage?project=&since=&until=&by=day|project|model|session: token and cost report. */
import { Hono } from "hono";
import { z } from "zod";
import { costSummaryOf } from "../../lib/cost.ts";
import { calendarDay, projectName } from "../../lib/schemas/common.ts";
import { USAGE_GROUPS, type UsageReport, type UsageRow } from "../../lib/schemas/session.ts";
import { readParam } from "../http/body.ts";
import type { AppEnv } from "../http/types.ts";
import type { Services } from "../services.ts";
import { tokenTotal } from "../../lib/tokens.ts";

const day = calendarDay.optional();

const KEY: Record<(typeof USAGE_GROUPS)[number], string> = {
  day: "to_char(u.day, 'YYYY-MM-DD')",
  project: "p.name",
  model: "u.model",
  session: "u.session_id",
};

interface Row {
  key: string;
  input: number;
  output: number;
  cache_creation: number;
  cache_read: number;
  cost_usd: number;
  reported_usd: number;
  unpriced: number;
}

function toRow(r: Row): UsageRow {
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

export function usageRoutes(s: Services): Hono<AppEnv> {
  const app = new Hono<AppEnv>();
  app.get("/", async (c) => {
    const by = readParam("by", c.req.query("by") ?? "day", z.enum(USAGE_GROUPS));
    const project = c.req.query("project") ? readParam("project", c.req.query("project"), projectName) : null;
    const since = readParam("since", c.req.query("since"), day) ?? null;
    const until = readParam("until", c.req.query("until"), day) ?? null;
    const rows = await s.db.query<Row>(
      `SELECT ${KEY[by]} AS key, sum(u.input_tokens)::int8 AS input, sum(u.output_tokens)::int8 AS output,
         sum(u.cache_creation_tokens)::int8 AS cache_creation, sum(u.cache_read_tokens)::int8 AS cache_read,
         sum(u.cost_usd)::float8 AS cost_usd, sum(u.reported_cost_usd)::float8 AS reported_usd,
         sum(u.unpriced_tokens)::int8 AS unpriced
       FROM token_usage u JOIN projects p ON p.id = u.project_id
       WHERE ($1::text IS NULL OR p.name = $1) AND ($2::date IS NULL OR u.day >= $2::date)
         AND ($3::date IS NULL OR u.day <= $3::date)
       GROUP BY 1 ORDER BY 1`,
      [project, since, until],
    );
    const list = rows.map(toRow);
    const total = toRow(rows.reduce<Row>((t, r) => ({
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
  return app;
}
