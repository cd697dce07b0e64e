/**
 * A session in this terminal (`stratavore launch`, `agent`, `resume`), run by a process without the CLI:
 * main.ts sends those commands here. The whole CLI runs them first, as a child with the terminal, to check the
 * command line and the config and register the runner; it hands the session back through a private file
 * (lib/session_handoff.ts) and this process runs it. Whatever else the command does (its --help, --detach,
 * an error) the child does itself, and its exit code is ours. So the process beside the session all day
 * holds what a detached agent holds, not commander and zod (docs/performance.md, agent RSS).
 */
import { privateUmask } from "../lib/private_files.ts";
import { RunnerClient } from "../lib/runner_client.ts";
import { selfCommand } from "../lib/self.ts";
import { HANDOFF_ENV, parseSessionHandoff } from "../lib/session_handoff.ts";
import { onStopSignal, signalToPass } from "../lib/signals.ts";
import { holdStopSignals, runSession } from "./session.ts";

export async function runForeground(argv: string[]): Promise<number> {
  // From the first moment, as agent/main.ts: a signal while the runner registers is kept for the command.
  const signals = holdStopSignals();
  const file = await Deno.makeTempFile({ prefix: "stratavore-handoff-" }); // only its owner reads it
  let text: string;
  try {
    const [exe, ...pre] = selfCommand();
    const child = new Deno.Command(exe, {
      args: [...pre, ...argv],
      env: { [HANDOFF_ENV]: file },
      stdin: "inherit",
      stdout: "inherit",
      stderr: "inherit",
    }).spawn();
    // The child is the command meanwhile (a --detach, an --attach, a registration): a stop signal reaches
    // it as it would have reached the command, and is still kept for a session it hands over.
    const inTerminal = Deno.stdin.isTerminal();
    const stopForwarding = onStopSignal((sig) => {
      const pass = signalToPass(sig, inTerminal);
      try {
        if (pass) child.kill(pass);
      } catch { /* it has ended */ }
    });
    const status = await child.status;
    stopForwarding();
    text = await Deno.readTextFile(file);
    if (!text) {
      signals.off();
      return status.code;
    }
  } finally {
    await Deno.remove(file).catch(() => {});
  }
  const h = parseSessionHandoff(text);
  // The agent's files are private from here on (the child had the user's umask, as any command has).
  privateUmask();
  return await runSession({
    ...h,
    client: new RunnerClient({ url: h.url, token: h.token, agent: "stratavore-agent" }),
    signals,
  });
}
