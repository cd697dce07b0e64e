/**
 * `stratavore agent [--project P] [--runner ID] -- <command> [args…]` (and `launch`, `resume` in the
 * foreground): read the config, register the runner with the daemon, then run the session (agent/session.ts).
 * Invisible when things go well: the command owns the terminal, the agent logs to a file. The daemon's own
 * detached agents start at agent/detached.ts instead, without the config or the CLI.
 */
import { privateUmask } from "../lib/private_files.ts";
import { contextFrom, type GlobalOptions } from "../lib/startup.ts";
import type { Config } from "../lib/config.ts";
import { StratavoreClient } from "../lib/client.ts";
import { type CommandLine, planCommandLine, type ProjectCommand } from "../lib/command_line.ts";
import { HOOK_ENV } from "../lib/claude/hooks.ts";
import { clientFor, daemonUrl } from "../lib/discover.ts";
import { parseDuration } from "../lib/duration.ts";
import { AppError } from "../lib/errors.ts";
import type { Runner } from "../lib/schemas/runner.ts";
import type { Project } from "../lib/schemas/project.ts";
import { which } from "../lib/which.ts";
import { gitRef, worktreeName, type WorktreeRequest } from "../lib/schemas/worktree.ts";
import { checkWorktree, worktreeBranch, worktreePath, worktreeRoot } from "../lib/worktree.ts";
import { HANDOFF_ENV, handoffText } from "../lib/session_handoff.ts";
import { holdStopSignals, runSession, type SessionInput, STOP_GRACE_MS } from "./session.ts";

/**
 * What the agent runs: a command line of its own (`stratavore agent -- cmd args`, and the daemon's detached
 * agents, given the runner's planned command line), or its project's command with extra arguments
 * (`launch`, `resume`), planned by the daemon (lib/command_line.ts) when it registers the runner.
 */
export type AgentCommand =
  | { argv: string[] }
  | { project: ProjectCommand & Partial<Pick<Project, "name" | "worktree">>; extraArgs: string[] };

export interface AgentOptions extends GlobalOptions {
  project?: string;
  runner?: string;
  heartbeat?: string;
  cwd?: string;
  /** Headless: keep the command's stdout in this file (set by the daemon for detached runs). */
  log?: string;
  /** Run the command in a pseudo-terminal reachable through the daemon (detached interactive). */
  pty?: boolean;
  stopGrace?: string;
  /** Foreground launches print one line before and after the session. */
  quiet?: boolean;
  /** Run in a git worktree of its own: true, or its name; false: not even when the project says auto. */
  worktree?: string | boolean;
  /** The worktree's base (a branch, tag or commit; default the folder's HEAD). */
  base?: string;
  /** Refuse when the project's folder has uncommitted changes. */
  requireClean?: boolean;
  /** Reopen this earlier runner's worktree (resume). */
  reopen?: number;
}

/** The launch request's `worktree` from the options; undefined leaves it to the project. */
export function worktreeRequestOf(opts: AgentOptions): WorktreeRequest | undefined {
  if (typeof opts.worktree === "string" && !worktreeName.safeParse(opts.worktree).success) {
    throw new AppError(
      "usage",
      `--worktree ${opts.worktree}: a worktree name is 1-63 of A-Z a-z 0-9 . _ -, starting with a letter or digit`,
    );
  }
  if (opts.base !== undefined && !gitRef.safeParse(opts.base).success) {
    throw new AppError("usage", `--base ${opts.base}: expected a git branch, tag or commit`);
  }
  if (opts.worktree === false) {
    if (opts.base !== undefined || opts.requireClean) {
      throw new AppError("usage", "--base and --require-clean go with a worktree, not --no-worktree");
    }
    return false;
  }
  if (opts.reopen !== undefined) return { reopen: opts.reopen };
  if (opts.worktree === undefined && opts.base === undefined && !opts.requireClean) return undefined;
  return {
    ...(typeof opts.worktree === "string" ? { name: opts.worktree } : {}),
    ...(opts.base !== undefined ? { base: opts.base } : {}),
    ...(opts.requireClean ? { requireCleanBase: true } : {}),
  };
}

interface Registered {
  runner: Runner;
  client: StratavoreClient;
  token: string;
}

async function register(
  config: Config,
  opts: AgentOptions,
  what: AgentCommand,
  cwd: string,
): Promise<Registered> {
  if (opts.runner) {
    // With --runner, --token is that runner's token (the daemon prints it at launch); the environment
    // variable is how the daemon hands it to agents it spawns, keeping it out of the process list.
    const token = opts.token ?? Deno.env.get(HOOK_ENV.token);
    if (!token) {
      throw new AppError(
        "usage",
        `--runner needs the runner's token: pass --token T or set ${HOOK_ENV.token}`,
      );
    }
    const client = new StratavoreClient({ url: daemonUrl(config), token, agent: "stratavore-agent" });
    const runner = { id: Number(opts.runner), cwd, project: opts.project ?? "" } as Runner;
    return { runner, client, token };
  }
  const admin = clientFor(config, "stratavore-agent");
  let project = opts.project;
  let launchCwd = opts.cwd;
  if (!project) {
    const norm = (p: string) => p.replace(/\\/g, "/").replace(/\/+$/, "");
    const projects = await admin.listProjects();
    const here = norm(cwd);
    project = projects.sort((a, b) => b.path.length - a.path.length)
      .find((p) => here === norm(p.path) || here.startsWith(norm(p.path) + "/"))?.name;
    if (!project) {
      throw new AppError(
        "failed",
        `no project covers ${cwd}: pass --project, or create one with "stratavore new <name> --path ${cwd}"`,
      );
    }
    launchCwd ??= cwd; // found by the folder we are in: run here, not at the project's root
  }
  const worktree = worktreeRequestOf(opts);
  const launched = await admin.launch(
    "argv" in what
      ? { project, command: what.argv[0], args: what.argv.slice(1), cwd: launchCwd, worktree }
      : { project, args: what.extraArgs, cwd: launchCwd, worktree },
  );
  return { runner: launched.runner, client: admin.withToken(launched.token), token: launched.token };
}

export async function runAgent(opts: AgentOptions, what: AgentCommand): Promise<number> {
  // From the first moment: a signal while registering must not end the agent (and leave a runner behind);
  // it is passed to the command once it runs.
  const signals = holdStopSignals();
  // The agent's files in the home (its log, the session's settings with its token, terminal output) are
  // private; the session itself gets the user's umask back (lib/private_files.ts).
  privateUmask();
  const ctx = contextFrom(opts);
  const config = ctx.loaded.config;
  if ("argv" in what && what.argv.length === 0) {
    throw new AppError(
      "usage",
      'nothing to run: give the command after "--", e.g. stratavore agent -- claude',
    );
  }
  // Checked before anything is registered: the same plan the daemon makes, for the command's name.
  const planned: CommandLine = "argv" in what
    ? { command: what.argv[0], args: what.argv.slice(1), cwd: opts.cwd ?? Deno.cwd() }
    : planCommandLine(what.project, { args: what.extraArgs, cwd: opts.cwd });
  if (!which(planned.command)) {
    throw new AppError("failed", `cannot run "${planned.command}": it is not on PATH`);
  }
  const userInterval = opts.heartbeat ? parseDuration(opts.heartbeat) : undefined;
  if (opts.heartbeat && !userInterval) {
    throw new AppError("usage", `--heartbeat ${opts.heartbeat}: expected a duration such as 10s`);
  }
  const grace = opts.stopGrace ? parseDuration(opts.stopGrace) ?? STOP_GRACE_MS : STOP_GRACE_MS;

  const wtWanted = worktreeRequestOf(opts) ??
    ("project" in what && what.project.worktree === "auto" ? {} : undefined);
  if (wtWanted && "project" in what && what.project.name && wtWanted.reopen === undefined) {
    // What can be checked before the runner exists (its branch and folder are named after it otherwise).
    const named = wtWanted.name;
    await checkWorktree({
      folder: opts.cwd ?? what.project.path,
      base: wtWanted.base,
      requireCleanBase: wtWanted.requireCleanBase,
      ...(named
        ? {
          branch: worktreeBranch(what.project.name, named),
          path: worktreePath(worktreeRoot(config), what.project.name, named),
        }
        : {}),
    });
  }

  const { runner, client, token } = await register(config, opts, what, opts.cwd ?? Deno.cwd());
  const session: Omit<SessionInput, "client" | "signals"> = {
    settings: config,
    runner: {
      id: runner.id,
      project: runner.project || opts.project || "",
      cwd: runner.cwd || opts.cwd || Deno.cwd(),
      // The worktree the daemon planned at our launch (a runner given with --runner runs where it is).
      worktree: opts.runner ? null : runner.worktree,
    },
    // The command line the daemon recorded for the runner when it registered it here; with --runner, the
    // one it was given, which the daemon planned the same way.
    command: "argv" in what ? what.argv : [runner.command, ...runner.args],
    token,
    mode: opts.pty ? "pty" : opts.log !== undefined ? "headless" : "interactive",
    log: opts.log,
    quiet: opts.quiet,
    heartbeatMs: userInterval,
    grace,
    tokenTrusted: !opts.runner,
  };
  const handoff = Deno.env.get(HANDOFF_ENV);
  if (handoff) {
    // Started by agent/foreground.ts: the session runs there, in a process without the CLI.
    signals.off();
    await Deno.writeTextFile(handoff, handoffText({ ...session, url: client.url, quiet: !!session.quiet }));
    return 0;
  }
  return await runSession({ ...session, client, signals });
}
