/**
 * What the shell completion scripts know, read from the commander program itself (so they never go stale):
 * every visible command path, its subcommands, its flags (its own and its ancestors', which commander also
 * accepts after a subcommand) and what each flag value and positional argument completes to.
 */
import type { CommandUnknownOpts, Option } from "@commander-js/extra-typings";

/**
 * What a value completes to: nothing, file names, the daemon's project names, active runner ids or every
 * runner id (asked with `stratavore projects -q`, `runners -q`, `runners -q --all`), or a fixed list.
 */
export type Kind = "none" | "files" | "projects" | "runners" | "all-runners" | { choices: string[] };

export interface FlagSpec {
  /** "--project", "-p" */
  names: string[];
  /** Takes a value (`--project <name>`); the value completes to `kind`. */
  value: boolean;
  kind: Kind;
  help: string;
}

export interface CommandSpec {
  /** "" for the program, "project set" for a subcommand. */
  path: string;
  subs: { name: string; help: string }[];
  flags: FlagSpec[];
  /** Positional arguments in order; the last repeats when `variadic`. */
  args: Kind[];
  variadic: boolean;
}

const FILE_OPTIONS = new Set(["home", "path", "cwd", "log", "logFile"]);
const PROJECT_WORDS = new Set(["project"]);
/** `<runner>` (show, logs) may name an ended runner; `[runners...]` (stop, kill) only active ones. */
const RUNNER_WORDS = new Set(["runners", "ids"]);
const ANY_RUNNER_WORDS = new Set(["runner", "id"]);
const FILE_WORDS = new Set(["dir", "path", "file", "command", "args"]);

function optionKind(o: Option): Kind {
  if (o.argChoices?.length) return { choices: [...o.argChoices] };
  const name = o.attributeName();
  if (name === "project") return "projects";
  if (FILE_OPTIONS.has(name)) return "files";
  return "none";
}

function argumentKind(name: string, choices?: string[]): Kind {
  if (choices?.length) return { choices: [...choices] };
  if (PROJECT_WORDS.has(name)) return "projects";
  if (RUNNER_WORDS.has(name)) return "runners";
  if (ANY_RUNNER_WORDS.has(name)) return "all-runners";
  if (FILE_WORDS.has(name)) return "files";
  return "none";
}

function flagSpec(o: Option): FlagSpec {
  return {
    names: [o.long, o.short].filter((n): n is string => !!n),
    value: o.required || o.optional,
    kind: optionKind(o),
    help: o.description,
  };
}

export function commandSpecs(program: CommandUnknownOpts): CommandSpec[] {
  const out: CommandSpec[] = [];
  const visit = (cmd: CommandUnknownOpts, path: string[]) => {
    const help = cmd.createHelp();
    const subs = help.visibleCommands(cmd);
    const own = help.visibleOptions(cmd);
    const inherited: Option[] = [];
    // Commander accepts an ancestor's options after a subcommand too; --version and --help are the own.
    for (let a = cmd.parent; a; a = a.parent) {
      inherited.push(...a.options.filter((o) => !o.hidden && o.long !== "--version" && o.long !== "--help"));
    }
    const seen = new Set<string>();
    const flags = [...own, ...inherited].map(flagSpec).filter((f) => {
      const key = f.names.join(" ");
      if (seen.has(key)) return false;
      seen.add(key);
      return true;
    });
    const args = cmd.registeredArguments;
    out.push({
      path: path.join(" "),
      subs: subs.flatMap((s) => [s.name(), ...s.aliases()].map((name) => ({ name, help: s.description() }))),
      flags,
      args: args.map((a) => argumentKind(a.name(), a.argChoices)),
      variadic: args.at(-1)?.variadic ?? false,
    });
    for (const sub of subs) {
      if (sub.name() !== "help") visit(sub, [...path, sub.name()]);
    }
  };
  visit(program, []);
  return out;
}

/** The program's name (what the scripts register for). */
export function programName(program: CommandUnknownOpts): string {
  return program.name();
}

/** Single-quotes a word for POSIX shells (and fish, which reads '…' the same way for these words). */
export function sq(text: string): string {
  return `'${text.replaceAll("'", `'\\''`)}'`;
}

/** One-line help text without characters that break the shells' description syntax. */
export function oneLine(text: string, max = 80): string {
  const t = text.replace(/\s+/g, " ").trim();
  return t.length > max ? t.slice(0, max - 1) + "…" : t;
}
