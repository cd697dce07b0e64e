/**
 * Real-client tests: a real daemon (on both backends, as eachDaemon), the pinned Claude Code first on PATH
 * for the daemon and every CLI/agent subprocess, a Messages API stand-in, a trusted project folder and a
 * Claude config dir with the onboarding done; sessions export telemetry every second.
 */
import { type DaemonTest, eachDaemon, type EachDaemonOptions } from "../helpers/daemon.ts";
import { projectFolder } from "../helpers/agent.ts";
import { FAST_TIER } from "../helpers/env.ts";
import { CLAUDE_BIN_DIR, claudeEnv, ensureClaudeCode, prepareConfigDir, SKIP_REAL } from "./claude_code.ts";
import { MessagesApi } from "./messages_api.ts";

export interface RealTest extends DaemonTest {
  api: MessagesApi;
  /** The project's folder (trusted in the Claude config). */
  dir: string;
  project: string;
  /** Environment for CLI and agent subprocesses: this daemon, the real claude, the stand-in. */
  env: Record<string, string>;
}

export interface RealOptions extends Omit<EachDaemonOptions, "inProcess" | "subprocesses"> {
  /** As a Claude.ai subscriber (OAuth token) instead of an API key. */
  subscriber?: boolean;
  /** Project name (default "app"). */
  project?: string;
}

const PATH = `${CLAUDE_BIN_DIR}:${Deno.env.get("PATH") ?? ""}`;

/** Registers `real claude: <name> [pglite]` and `[postgres]`. */
export function eachRealDaemon(
  name: string,
  fn: (t: RealTest) => Promise<void>,
  opts: RealOptions = {},
): void {
  // One stand-in per test (both backends share it; their requests are told apart by the test's markers).
  const api = SKIP_REAL || FAST_TIER ? undefined : new MessagesApi().start();
  const base: Record<string, string> = {
    DISABLE_AUTOUPDATER: "1",
    CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC: "1",
    DISABLE_ERROR_REPORTING: "1",
    STRATAVORE_TELEMETRY_INTERVAL: "1s",
    PATH,
    ...(api ? claudeEnv({ apiUrl: api.url, configDir: "", subscriber: opts.subscriber }) : {}),
  };
  // CLAUDE_CONFIG_DIR stays eachDaemon's own per-test folder.
  delete base.CLAUDE_CONFIG_DIR;
  eachDaemon(`real claude: ${name}`, async (t) => {
    await ensureClaudeCode();
    const project = opts.project ?? "app";
    const dir = await projectFolder(t.daemon.home, project);
    await prepareConfigDir(t.claudeDir, [dir]);
    await t.client.createProject({ name: project, path: dir });
    try {
      await fn({ ...t, api: api!, dir, project, env: { ...t.env, ...base } });
    } finally {
      api!.requests.length = 0;
      api!.queue.length = 0;
      api!.routes.clear();
    }
  }, { ...opts, ignore: opts.ignore || SKIP_REAL, env: { ...base, ...opts.env } });
}
