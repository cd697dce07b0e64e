/**
 * A detached runner's agent, as the daemon starts it (daemon/spawn.ts): `deno run … agent/detached.ts <spec>
 * -- <command> [args…]`, or `stratavore detached-agent …` from a compiled binary. The daemon has registered
 * the runner and hands over its settings (lib/detached_agent.ts), so this loads neither the config nor the
 * CLI: zod and commander would be a third of the agent's memory beside the session (docs/performance.md).
 */
import { parseDetachedAgentSpec } from "../lib/detached_agent.ts";
import { AppError, EXIT, isAppError } from "../lib/errors.ts";
import { privateUmask } from "../lib/private_files.ts";
import { RunnerClient } from "../lib/runner_client.ts";
import { RUNNER_TOKEN_ENV } from "../lib/session_env.ts";
import { holdStopSignals, runSession, STOP_GRACE_MS } from "./session.ts";

export async function runDetached(specText: string, command: string[]): Promise<number> {
  // Signals before the command runs are kept for it; the agent's files are private (as agent/main.ts).
  const signals = holdStopSignals();
  privateUmask();
  const spec = parseDetachedAgentSpec(specText);
  if (command.length === 0) throw new AppError("usage", 'nothing to run: give the command after "--"');
  const token = Deno.env.get(RUNNER_TOKEN_ENV);
  if (!token) throw new AppError("usage", `a detached agent needs its runner's token in ${RUNNER_TOKEN_ENV}`);
  return await runSession({
    settings: spec.settings,
    runner: spec.runner,
    command,
    client: new RunnerClient({ url: spec.url, token, agent: "stratavore-agent" }),
    token,
    mode: spec.mode,
    log: spec.log,
    quiet: true,
    grace: STOP_GRACE_MS,
    signals,
    // Given by the daemon, not made by our own launch: trusted once the daemon accepts it.
    tokenTrusted: false,
  });
}

if (import.meta.main) {
  const [spec = "", sep, ...command] = Deno.args;
  try {
    Deno.exit(await runDetached(spec, sep === "--" ? command : []));
  } catch (e) {
    // Its stderr is usually nowhere (the daemon detaches it); the agent's log has the details.
    console.error(`stratavore detached agent: ${(e as Error).message}`);
    Deno.exit(isAppError(e) ? e.exitCode : EXIT.failed);
  }
}
