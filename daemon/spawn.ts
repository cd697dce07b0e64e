/**
 * Detached launches: the daemon starts a runner's agent (agent/detached.ts) in the background on its own machine, in a new
 * process group so it outlives a daemon restart, with the runner's token in its environment (never on the
 * command line, where `ps` would show it) and the command's output kept in $STRATAVORE_HOME/logs.
 */
import { homePath } from "../lib/home.ts";
import type { Runner } from "../lib/schemas/runner.ts";
import { detachedAgentCommand } from "../lib/self.ts";
import { detachedAgentArgs } from "../lib/detached_agent.ts";
import { withUserUmask } from "../lib/private_files.ts";
import { parseEnvList, RUNNER_TOKEN_ENV, sessionEnvironment } from "../lib/session_env.ts";
import type { Services } from "./services.ts";

export function agentSpawner(s: Services): (runner: Runner, token: string) => Promise<void> {
  return async (runner, token) => {
    const logs = homePath(s.config.home, "logs");
    await Deno.mkdir(logs, { recursive: true });
    const pty = runner.mode === "pty";
    // A headless run's log is stream-json lines; a terminal session's is the raw terminal output.
    const logPath = homePath(logs, `${runner.id}.${pty ? "log" : "jsonl"}`);
    await s.db.query("UPDATE runners SET log_path = $2 WHERE id = $1", [runner.id, logPath]);
    const [exe, ...pre] = detachedAgentCommand();
    // Not the daemon's whole environment: it holds secrets (database and broker URLs, the bot token) that
    // the session, which a prompt can steer, must never see (lib/session_env.ts).
    const env: Record<string, string> = {
      ...sessionEnvironment(s.env, parseEnvList(s.config.sessionEnv)),
      STRATAVORE_HOME: s.config.home,
      STRATAVORE_URL: s.url,
      [RUNNER_TOKEN_ENV]: token,
    };
    // The agent starts with the user's own umask (it makes its own files private and keeps the user's
    // for the session it runs).
    const child = withUserUmask(() =>
      new Deno.Command(exe, {
        args: [
          ...pre,
          ...detachedAgentArgs({
            url: s.url,
            runner: { id: runner.id, project: runner.project, cwd: runner.cwd, worktree: runner.worktree },
            mode: pty ? "pty" : "headless",
            log: logPath,
            // This daemon's settings, checked at its start: worktrees go where they say (they were
            // checked there at launch), sessions get its sessionEnv, heartbeats its interval.
            settings: s.config,
          }, [
            // The runner's command line as lib/command_line.ts planned it at launch (headless flags included).
            runner.command,
            ...runner.args,
          ]),
        ],
        cwd: runner.cwd,
        env,
        clearEnv: true,
        stdin: "null",
        stdout: "null",
        stderr: "null",
        detached: true,
      }).spawn()
    );
    child.unref();
    s.log.info("started a detached agent", { runner: runner.id, project: runner.project, pid: child.pid });
  };
}
