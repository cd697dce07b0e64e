/**
 * `stratavore completions bash|zsh|fish|powershell`: a completion script built from the command tree
 * itself (commands, subcommands, flags, choices), which completes project names and runner ids by asking
 * the daemon through `stratavore projects -q` and `stratavore runners -q`.
 */
import type { CommandUnknownOpts } from "@commander-js/extra-typings";
import { bashScript } from "../completion/bash.ts";
import { fishScript } from "../completion/fish.ts";
import { powershellScript } from "../completion/powershell.ts";
import { commandSpecs } from "../completion/spec.ts";
import { zshScript } from "../completion/zsh.ts";

export const SHELLS = ["bash", "zsh", "fish", "powershell"] as const;
export type Shell = (typeof SHELLS)[number];

export function completionScript(shell: Shell, program: CommandUnknownOpts): string {
  const specs = commandSpecs(program);
  const name = program.name();
  switch (shell) {
    case "bash":
      return bashScript(name, specs);
    case "zsh":
      return zshScript(name, specs);
    case "fish":
      return fishScript(name, specs);
    case "powershell":
      return powershellScript(name, specs);
  }
}

export function completionsCommand(shell: Shell, program: CommandUnknownOpts): void {
  console.log(completionScript(shell, program).trimEnd());
}
