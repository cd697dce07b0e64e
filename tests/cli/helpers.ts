/** Shared by the CLI tests: running the CLI against a test daemon, golden files, a fixed data set. */
import type { StratavoreClient } from "../../lib/client.ts";
import { AssertionError } from "../helpers/assert.ts";
import { type RunOptions, type RunResult, runStratavore } from "../helpers/cli.ts";
import type { DaemonTest } from "../helpers/daemon.ts";

const GOLDEN_DIR = new URL("./golden/", import.meta.url).pathname;

/**
 * Compares output with tests/cli/golden/<name>. `UPDATE_GOLDEN=1 deno test --allow-all tests/cli` rewrites
 * the files (review the diff before keeping it).
 */
export async function assertGolden(name: string, actual: string): Promise<void> {
  const path = GOLDEN_DIR + name;
  if (Deno.env.get("UPDATE_GOLDEN") === "1") {
    await Deno.mkdir(GOLDEN_DIR, { recursive: true });
    await Deno.writeTextFile(path, actual);
    return;
  }
  let expected: string;
  try {
    expected = await Deno.readTextFile(path);
  } catch {
    throw new AssertionError(`no golden file ${path}: run with UPDATE_GOLDEN=1 to create it`);
  }
  if (expected !== actual) {
    throw new AssertionError(
      `output differs from ${path} (UPDATE_GOLDEN=1 rewrites it)\n--- expected\n${expected}--- actual\n${actual}`,
    );
  }
}

/** Runs the CLI against the test's daemon (found through STRATAVORE_HOME, as a user's CLI finds it). */
export function cliFor(t: DaemonTest) {
  return (args: string[], opts: RunOptions = {}): Promise<RunResult> =>
    runStratavore(args, { ...opts, env: { ...t.env, ...opts.env } });
}

/** ISO timestamps become <time>, the daemon's home and URL become <home> and <url>. */
export function normalise(text: string, t?: DaemonTest): string {
  let out = text.replace(/\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z/g, "<time>");
  if (t) out = out.replaceAll(t.daemon.url, "<url>").replaceAll(t.daemon.home, "<home>");
  return out;
}

/**
 * A clock for STRATAVORE_CLI_NOW two hours after the newest timestamp the daemon holds, so every age in
 * the output reads "2h" however long the test took to set up.
 */
export async function fixedClock(client: StratavoreClient): Promise<string> {
  const [projects, runners] = await Promise.all([client.listProjects(), client.listRunners({ all: true })]);
  const times = [
    ...projects.flatMap((p) => [p.createdAt, p.updatedAt]),
    ...runners.flatMap((r) => [r.createdAt, r.startedAt, r.endedAt, r.lastHeartbeatAt, r.activityAt]),
  ].filter((t): t is string => !!t).map((t) => Date.parse(t));
  return new Date(Math.max(...times) + 2 * 3600_000).toISOString();
}

export const LONG_PATH = "/srv/data/pipelines/nightly-ingest-and-report";

/**
 * Three projects and five runners with fixed values (pids, CPU, memory, tokens, activity):
 * 5 data-pipeline killed before it started · 4 web stopping · 3 web starting · 2 api busy · 1 api waiting.
 */
export async function seed(client: StratavoreClient): Promise<void> {
  await client.createProject({ name: "api", path: "/srv/api", maxRunners: 3, description: "the public API" });
  await client.createProject({
    name: "web",
    path: "/srv/web",
    command: "claude",
    commandArgs: ["--model", "opus"],
  });
  await client.createProject({ name: "data-pipeline", path: LONG_PATH, maxRunners: 1 });

  const running = async (project: string, pid: number, sessionId: string) => {
    const { runner, token } = await client.launch({ project, labels: { team: "core" } });
    const agent = client.withToken(token);
    await agent.started(runner.id, { pid, host: "test-host", sessionId });
    return { id: runner.id, agent };
  };
  const tokens = (input: number, output: number, cacheCreation: number, cacheRead: number) => ({
    input,
    output,
    cacheCreation,
    cacheRead,
  });

  const r1 = await running("api", 4242, "4f1c0000-0000-4000-8000-000000000001");
  const t1 = tokens(1200, 3400, 5000, 113_822);
  await r1.agent.heartbeat(r1.id, {
    cpuPercent: 12.5,
    rssBytes: 150 * 1024 * 1024,
    tokens: t1,
    usage: [{ sessionId: "4f1c0000-0000-4000-8000-000000000001", model: "claude-opus-4-1", ...t1 }],
  });
  await r1.agent.claudeHook(r1.id, {
    session_id: "4f1c0000-0000-4000-8000-000000000001",
    hook_event_name: "Notification",
    notification_type: "idle_prompt",
  });

  const r2 = await running("api", 4243, "4f1c0000-0000-4000-8000-000000000002");
  const t2 = tokens(20_000, 480_000, 1_000_000, 3_000_000);
  await r2.agent.heartbeat(r2.id, {
    cpuPercent: 101.3,
    rssBytes: 1.5 * 1024 ** 3,
    tokens: t2,
    usage: [{ sessionId: "4f1c0000-0000-4000-8000-000000000002", model: "claude-sonnet-4-5", ...t2 }],
  });
  await r2.agent.claudeHook(r2.id, {
    session_id: "4f1c0000-0000-4000-8000-000000000002",
    hook_event_name: "UserPromptSubmit",
  });

  await client.launch({ project: "web" });
  const r4 = await running("web", 5001, "4f1c0000-0000-4000-8000-000000000004");
  await client.stopRunner(r4.id, "deploy window");

  const r5 = await client.launch({ project: "data-pipeline" });
  await client.killRunner(r5.runner.id, "wrong branch");
}

/** A daemon whose reconciler leaves silent test runners alone for the length of a test. */
export const QUIET_DAEMON = { env: { STRATAVORE_HEARTBEAT_TTL: "10m" } };
