/** A fleet worth looking at: projects, budgets, finished runners with usage, a detached runner running. */
import type { UsageTotal } from "../../lib/schemas/runner.ts";
import { eventually } from "../helpers/assert.ts";
import { projectFolder } from "../helpers/agent.ts";
import type { DaemonTest } from "../helpers/daemon.ts";
import { PG_AVAILABLE } from "../helpers/env.ts";

/** The backend whose run saves the screenshots (the PostgreSQL run can also seed past days of usage). */
export const SCREENSHOT_BACKEND = PG_AVAILABLE ? "postgres" : "pglite";

export const MODEL = "claude-sonnet-4-5-20250929";
export const SMALL_MODEL = "claude-haiku-4-5-20251001";

export function usage(sessionId: string, model: string, scale: number): UsageTotal {
  return {
    sessionId,
    model,
    input: 12_000 * scale,
    output: 48_000 * scale,
    cacheCreation: 150_000 * scale,
    cacheRead: 600_000 * scale,
    messages: 20 * scale,
  };
}

/** Registers a runner, reports usage through its token and ends it (exit 0 → stopped). */
export async function runnerWithUsage(t: DaemonTest, project: string, totals: UsageTotal[]): Promise<number> {
  const { runner, token } = await t.client.launch({ project });
  const agent = t.client.withToken(token);
  await agent.started(runner.id, { pid: 1000 + runner.id, host: "laptop", sessionId: totals[0]?.sessionId });
  await agent.heartbeat(runner.id, { cpuPercent: 3, rssBytes: 200 * 1024 * 1024, usage: totals });
  await agent.exited(runner.id, { exitCode: 0 });
  return runner.id;
}

export interface Scene {
  /** A detached runner (the fake claude, sleeping) in state running, with a log; 0 when not asked for. */
  detached: number;
  /** The ended runners that carry the usage, by project. */
  usageRunners: { api: number; docs: number };
}

export async function seedFleet(t: DaemonTest, opts: { detached?: boolean } = {}): Promise<Scene> {
  const { client } = t;
  const home = t.daemon.home;
  await client.createProject({
    name: "api",
    path: await projectFolder(home, "api"),
    description: "the public API",
    maxRunners: 3,
  });
  await client.createProject({ name: "web", path: await projectFolder(home, "web"), maxRunners: 1 });
  await client.createProject({ name: "docs", path: await projectFolder(home, "docs"), maxRunners: 2 });
  await client.setBudget("global", undefined, { tokens: 50_000_000, period: "month" });
  await client.setBudget("project", "api", { tokens: 5_000_000, period: "month", warnAt: [80, 95] });
  await client.setBudget("project", "docs", { tokens: 2_000_000, period: "day" });
  const usageRunners = {
    api: await runnerWithUsage(t, "api", [usage("s-api-1", MODEL, 2), usage("s-api-1", SMALL_MODEL, 1)]),
    docs: await runnerWithUsage(t, "docs", [usage("s-docs-1", MODEL, 1)]),
  };
  if (opts.detached === false) return { detached: 0, usageRunners };
  await Deno.writeTextFile(t.planFile, JSON.stringify({ sleepMs: 120_000 }));
  const { runner } = await client.launch({
    project: "api",
    spawn: true,
    prompt: "Summarise the open issues and propose a fix for the flaky test",
  });
  await eventually(async () => (await client.getRunner(runner.id)).state === "running", 20_000, "running");
  return { detached: runner.id, usageRunners };
}
