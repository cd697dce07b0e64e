/**
 * The one place that decides what a launch runs: the command, its arguments and the folder, from the
 * project (its command, default arguments and path) and the request (a command of its own, extra arguments,
 * a prompt for a headless run, a folder). Every launch comes through here: the daemon records the result as
 * the runner's command line (API, web, --detach, --attach, and the agent's own registration for interactive
 * launches), and the CLI uses it to check the command exists before it registers anything.
 */
import { isClaude } from "./claude/command.ts";

export interface ProjectCommand {
  command: string;
  /** The project's default arguments, put before the request's. */
  commandArgs: readonly string[];
  path: string;
}

export interface CommandRequest {
  /** A command line of the request's own: run as given, without the project's default arguments. */
  command?: string;
  /** Extra arguments, after the project's defaults (or the whole argument list with `command`). */
  args?: readonly string[];
  /** A headless run's prompt (claude: `-p PROMPT --output-format stream-json --verbose`; others: last). */
  prompt?: string;
  cwd?: string;
}

export interface CommandLine {
  command: string;
  args: string[];
  cwd: string;
}

export function planCommandLine(project: ProjectCommand, req: CommandRequest): CommandLine {
  const command = req.command ?? project.command;
  const args = req.command !== undefined ? [...req.args ?? []] : [...project.commandArgs, ...req.args ?? []];
  return {
    command,
    args: req.prompt !== undefined ? headlessArgs(command, req.prompt, args) : args,
    cwd: req.cwd ?? project.path,
  };
}

/** How a detached, headless run is started: claude gets -p with stream-json output; others get the prompt last. */
export function headlessArgs(command: string, prompt: string, args: string[]): string[] {
  if (isClaude(command)) return ["-p", prompt, "--output-format", "stream-json", "--verbose", ...args];
  return [...args, prompt];
}
