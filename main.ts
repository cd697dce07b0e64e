/**
 * stratavore: one program, three roles. Dispatch only. The commands that can run a session in this
 * terminal (launch, agent, resume) go to agent/foreground.ts, which keeps the session in a process without
 * the CLI (the CLI checks and registers it in a child); every command, theirs included, is cli/program.ts's
 * command tree.
 */

import { HANDOFF_ENV } from "./lib/session_handoff.ts";

/** Loaded by a specifier made at run time, as cli/program.ts's commands (build/targets.ts lazyModules). */
function lazy<M>(path: string): Promise<M> {
  return import(new URL(path, import.meta.url).href);
}

/** The commands whose session runs in the foreground process (given as the first argument). */
export const FOREGROUND_COMMANDS = ["launch", "agent", "resume"];

async function main(argv: string[]): Promise<number> {
  // The CLI's own run of such a command (agent/foreground.ts's child) has the handoff file in its environment.
  if (!FOREGROUND_COMMANDS.includes(argv[0]) || Deno.env.get(HANDOFF_ENV)) {
    return await (await lazy<typeof import("./cli/program.ts")>("./cli/program.ts")).main(argv);
  }
  try {
    return await (await lazy<typeof import("./agent/foreground.ts")>("./agent/foreground.ts")).runForeground(
      argv,
    );
  } catch (e) {
    return (await lazy<typeof import("./cli/errors.ts")>("./cli/errors.ts")).reportError(e);
  }
}

if (import.meta.main) Deno.exit(await main(Deno.args));
