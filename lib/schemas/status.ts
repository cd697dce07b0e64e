import { z } from "zod";
import { runnerState } from "./runner.ts";

export const status = z.object({
  version: z.string(),
  daemonId: z.string(),
  startedAt: z.string(),
  uptimeSeconds: z.number(),
  url: z.string(),
  home: z.string(),
  database: z.object({ kind: z.enum(["embedded", "postgres"]), location: z.string() }),
  broker: z.object({ kind: z.enum(["embedded", "rabbitmq"]), location: z.string() }),
  runners: z.record(runnerState, z.number()),
  projects: z.number(),
  /** Subscription windows per account (see GET /api/v1/limits for the details). */
  limits: z.array(z.object({
    account: z.string(),
    label: z.string(),
    window: z.string(),
    percent: z.number(),
    resetsAt: z.string().nullable(),
    limited: z.boolean(),
  })).optional(),
});
export type Status = z.infer<typeof status>;
