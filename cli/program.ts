/**
 * The command tree of stratavore (main.ts dispatches here): it builds the commands and nothing else; each
 * command's module is imported only when that command runs, so `--help` never loads the database, grammy or
 * prom-client.
 */
import {
  Argument,
  Command,
  CommanderError,
  type CommandUnknownOpts,
  Option,
  type OptionValues,
} from "@commander-js/extra-typings";
import { RUNNER_STATES } from "../lib/runner_states.ts";
import { VERSION } from "../lib/version.ts";
import { flagHelp, type FlagSettingKey, LOG_FORMATS, LOG_LEVELS, SETTINGS } from "../lib/settings.ts";

/**
 * Loads a command's module when the command runs. The specifier is made at run time on purpose: on
 * `deno run`, Deno reads every dynamic import it can resolve from the source when the program starts, so
 * dynamic imports of literal paths made every command (and every agent and statusline start) walk the
 * whole tree first: measured 0.20 s → 0.09 s for `--version`, 0.25 s → 0.12 s for `runners --json`.
 * `deno compile` embeds these modules through --include (build/targets.ts lazyModules).
 */
function lazy<M>(path: string): Promise<M> {
  return import(new URL(path, import.meta.url).href);
}

/**
 * A setting's flag, from its row in lib/settings.ts (usage, help, environment variable and default). The
 * option's name is the setting's, so contextFrom() maps it onto the setting; its type is commander's.
 */
function settingOption<K extends FlagSettingKey>(key: K): Option<(typeof SETTINGS)[K]["flag"]> {
  const s = SETTINGS[key];
  return new Option(s.flag as (typeof SETTINGS)[K]["flag"], flagHelp(s));
}

/**
 * The whole command tree (running it is main()'s job). Each action's `cmd.optsWithGlobals()` is typed by
 * commander from the options declared here, and the command module's parameter type is checked against it.
 */
const root = new Command("stratavore")
  .description("Control plane for AI coding-agent sessions (Claude Code)")
  .version(VERSION, "-V, --version")
  .showHelpAfterError('(run "stratavore --help" for usage)')
  .addOption(settingOption("home"))
  .addOption(settingOption("url"))
  .addOption(settingOption("token"))
  .option("--json", "print JSON instead of tables")
  .option("--no-color", "no colours (also NO_COLOR, or when not a terminal)")
  .addOption(settingOption("logLevel").choices(LOG_LEVELS))
  .addOption(settingOption("logFormat").choices(LOG_FORMATS));

/** Exported for `completions` and tests, which walk the tree without its types. */
export const program: CommandUnknownOpts = root;

/** The worktree options `launch` and `agent` share (the agent gets them from launches it runs). */
// deno-lint-ignore no-explicit-any
function withWorktreeOptions<A extends any[], O extends OptionValues, G extends OptionValues>(
  cmd: Command<A, O, G>,
) {
  return cmd
    .option(
      "-w, --worktree [name]",
      "run in a git worktree of its own, on branch stratavore/<project>/<name or id>",
    )
    .option("--no-worktree", "run in the project's folder even if the project gives every launch a worktree")
    .option(
      "--base <ref>",
      "the worktree's starting point: a branch, tag or commit (default: the folder's HEAD)",
    )
    .option(
      "--require-clean",
      "refuse when the project's folder has uncommitted changes (the worktree lacks them)",
    );
}

// ---- daemon -------------------------------------------------------------------------------------
const daemon = root.command("daemon")
  .description("run the control plane (API, runner manager, event relay)")
  .addOption(settingOption("listen"))
  .addOption(settingOption("metricsListen"))
  .addOption(settingOption("databaseUrl"))
  .addOption(settingOption("amqpUrl"))
  .addOption(settingOption("logFile"))
  .action(async (_o, cmd) =>
    (await lazy<typeof import("../daemon/main.ts")>("../daemon/main.ts")).runDaemon(cmd.optsWithGlobals())
  );

// `stratavore daemon` alone still runs the daemon: commander calls the parent's action when no
// subcommand is named. These set the daemon up as a login/boot service (daemon/service/).
const service = () => lazy<typeof import("../daemon/service/install.ts")>("../daemon/service/install.ts");
daemon.command("install")
  .description("run the daemon as a service: systemd, launchd or a Windows logon task")
  .option("--system", "a system-wide service (root/administrator) instead of the current user's")
  .action(async (_o, cmd) => (await service()).installCommand(cmd.optsWithGlobals()));
daemon.command("uninstall")
  .description("stop the service and remove what `daemon install` wrote")
  .option("--system", "the system-wide service")
  .action(async (_o, cmd) => (await service()).uninstallCommand(cmd.optsWithGlobals()));
daemon.command("status")
  .description("is the service installed, enabled, running, and is a daemon answering")
  .option("--system", "the system-wide service")
  .action(async (_o, cmd) => (await service()).statusCommand(cmd.optsWithGlobals()));

// ---- status and projects ------------------------------------------------------------------------
root.command("status")
  .description("is the daemon running: version, uptime, address, storage, runners by state")
  .action(async (_o, cmd) =>
    (await lazy<typeof import("./commands/status.ts")>("./commands/status.ts")).statusCommand(
      cmd.optsWithGlobals(),
    )
  );

const projects = () => lazy<typeof import("./commands/projects.ts")>("./commands/projects.ts");
root.command("new")
  .description("create a project (a folder whose sessions are tracked, with a runner quota)")
  .argument("<name>", "project name: a-z, 0-9, '.', '_', '-'")
  .option("--path <dir>", "the project's folder (default: the current folder)")
  .option("--max-runners <n>", "how many runners may be active at once (default 5)")
  .option("--description <text>", "what the project is")
  .option("--command <cmd>", "what launch runs (default claude)")
  .option("--args <args>", 'default extra arguments for the command, e.g. "--model opus"')
  .option(
    "--worktree <mode>",
    "auto: every launch runs in a git worktree of its own; off (default): when asked",
  )
  .action(async (name, _o, cmd) => (await projects()).newCommand(name, cmd.optsWithGlobals()));
root.command("projects")
  .description("list projects: active runners against the quota, tokens this period")
  .option("-q, --quiet", "only the names")
  .action(async (_o, cmd) => (await projects()).projectsCommand(cmd.optsWithGlobals()));
const project = root.command("project").description("show, change or remove a project");
project.command("show")
  .description("every setting of a project and its active runners")
  .argument("<project>", "project name")
  .action(async (name, _o, cmd) => (await projects()).projectShowCommand(name, cmd.optsWithGlobals()));
project.command("set")
  .description("change a project's folder, quota, description or command")
  .argument("<project>", "project name")
  .option("--path <dir>", "the project's folder")
  .option("--max-runners <n>", "how many runners may be active at once")
  .option("--description <text>", "what the project is")
  .option("--command <cmd>", "what launch runs")
  .option("--args <args>", 'default extra arguments for the command ("" for none)')
  .option("--approvals <mode>", "permission requests: off, notify (shown everywhere) or remote (answerable)")
  .option("--approval-timeout <duration>", "how long a remote answer is waited for (default 5m)")
  .option(
    "--limit-policy <policy>",
    "launches while a subscription window is full: allow, refuse, queue, or default (the daemon's)",
  )
  .option("--worktree <mode>", "auto: every launch runs in a git worktree of its own; off: only when asked")
  .action(async (name, _o, cmd) => (await projects()).projectSetCommand(name, cmd.optsWithGlobals()));
project.command("rm")
  .description("remove a project (refused while it has active runners, unless --force)")
  .argument("<project>", "project name")
  .option("--force", "kill its active runners first")
  .action(async (name, _o, cmd) => (await projects()).projectRmCommand(name, cmd.optsWithGlobals()));

// ---- sessions -----------------------------------------------------------------------------------
/** Commands that end with the wrapped command's exit code set this; main() exits with it. */
let exitCode = 0;

withWorktreeOptions(
  root.command("launch")
    .description("start a tracked session of a project's command (claude) in this terminal, or --detach it")
    .argument("<project>", "project name")
    .argument("[args...]", "extra arguments for the command, after --")
    .option(
      "-d, --detach",
      "run in the background on the daemon's machine: headless with --prompt, else attachable",
    )
    .option("-a, --attach", "run detached and attach to it now (the tmux-like way to start)")
    .option("-p, --prompt <text>", "the prompt for a headless detached run"),
)
  .option("--heartbeat <duration>", "heartbeat interval (default: the daemon's, 10s)")
  .action(async (project, args, _o, cmd) => {
    exitCode = await (await lazy<typeof import("./commands/launch.ts")>("./commands/launch.ts"))
      .launchCommand(project, args, cmd.optsWithGlobals());
  });

withWorktreeOptions(
  root.command("agent")
    .description("wrap a command as a tracked runner: stratavore agent [--project P] -- claude …")
    .argument("[command...]", "the command to run, after --")
    .option("--project <name>", "project (default: the one whose folder contains the current folder)")
    .option("--runner <id>", "an already registered runner (token in STRATAVORE_RUNNER_TOKEN)")
    .option("--heartbeat <duration>", "heartbeat interval (default: the daemon's, 10s)")
    .option("--cwd <dir>", "folder to run the command in")
    .option("--log <file>", "run headless, keeping the command's output in this file")
    .option("--pty", "run in a pseudo-terminal reachable through the daemon (stratavore attach)")
    .option("--stop-grace <duration>", "how long a stop request waits before ending the process tree", "10s"),
)
  .action(async (command, _o, cmd) => {
    exitCode = await (await lazy<typeof import("../agent/main.ts")>("../agent/main.ts")).runAgent(
      cmd.optsWithGlobals(),
      {
        argv: command,
      },
    );
  });

root.command("logs")
  .description("show a detached runner's output")
  .argument("<runner>", "runner id")
  .option("-f, --follow", "keep printing as the runner writes")
  .option("--raw", "print the stream-json lines as they are")
  .action(async (id, _o, cmd) =>
    (await lazy<typeof import("./commands/logs.ts")>("./commands/logs.ts")).logsCommand(
      id,
      cmd.optsWithGlobals(),
    )
  );

const worktreesModule = () => lazy<typeof import("./commands/worktrees.ts")>("./commands/worktrees.ts");
root.command("diff")
  .description("what a runner's session changed in its worktree against its base (committed and uncommitted)")
  .argument("<runner>", "runner id")
  .argument("[paths...]", "only these paths, after --")
  .option("--stat", "files changed with +/- counts instead of the patch")
  .action(async (id, paths, _o, cmd) =>
    (await worktreesModule()).diffCommand(id, paths, cmd.optsWithGlobals())
  );
const worktrees = root.command("worktrees")
  .description("runners' git worktrees in use or kept for review (--all: removed ones too)")
  .option("--project <name>", "only this project's")
  .option("-a, --all", "include removed and reopened ones")
  .action(async (_o, cmd) => (await worktreesModule()).worktreesCommand(cmd.optsWithGlobals()));
worktrees.command("rm")
  .description("remove an ended runner's worktree (its branch stays unless --delete-branch)")
  .argument("<runner>", "runner id")
  .option("--force", "even with uncommitted changes (they are lost)")
  .option("--delete-branch", "delete its branch too (its commits are lost unless merged)")
  .action(async (id, _o, cmd) => (await worktreesModule()).worktreeRmCommand(id, cmd.optsWithGlobals()));
worktrees.command("prune")
  .description("remove every ended runner's worktree that holds nothing (no commits, no changes)")
  .action(async (_o, cmd) => (await worktreesModule()).worktreePruneCommand(cmd.optsWithGlobals()));

const runners = () => lazy<typeof import("./commands/runners.ts")>("./commands/runners.ts");
root.command("runners")
  .description("list active runners (--all: ended ones too), like pm2 ls")
  .option("--project <name>", "only this project's")
  .addOption(
    new Option("--state <state>", "only runners in this state")
      .choices(RUNNER_STATES),
  )
  .option("-a, --all", "include ended runners")
  .option("-q, --quiet", "only the ids")
  .action(async (_o, cmd) => (await runners()).runnersCommand(cmd.optsWithGlobals()));
root.command("runner")
  .description("every detail of one runner")
  .argument("<runner>", "runner id")
  .action(async (id, _o, cmd) => (await runners()).runnerShowCommand(id, cmd.optsWithGlobals()));

const stop = () => lazy<typeof import("./commands/stop.ts")>("./commands/stop.ts");
for (const verb of ["stop", "kill"] as const) {
  root.command(verb)
    .description(
      verb === "stop"
        ? "ask runners to stop gracefully (their agents end the sessions)"
        : "end runners at once (their agents end the process trees)",
    )
    .argument("[runners...]", "runner ids")
    .option("--all", "every active runner of --project P (or of --all-projects)")
    .option("--project <name>", "with --all: this project's runners")
    .option("--all-projects", "with --all: the runners of every project")
    .option("-y, --yes", "do not ask for confirmation")
    .option("--reason <text>", "recorded as the runner's reason")
    .action(async (ids, _o, cmd) => {
      exitCode = await (await stop())[verb === "stop" ? "stopCommand" : "killCommand"](
        ids,
        cmd.optsWithGlobals(),
      );
    });
}

const approve = () => lazy<typeof import("./commands/approve.ts")>("./commands/approve.ts");
for (const verb of ["approve", "deny"] as const) {
  root.command(verb)
    .description(
      verb === "approve"
        ? "allow the tool call a session is asking permission for (projects with --approvals remote)"
        : "refuse the tool call a session is asking permission for; --message tells Claude why",
    )
    .argument("<runner>", "runner id")
    .option("-m, --message <text>", "told to Claude and kept in the audit log")
    .option("--request <id>", "answer this request only (see `stratavore permissions <runner>`)")
    .action(async (id, _o, cmd) =>
      (await approve()).answerCommand(verb === "approve" ? "allow" : "deny", id, cmd.optsWithGlobals())
    );
}
root.command("permissions")
  .description("a runner's recent permission requests and how they were answered")
  .argument("<runner>", "runner id")
  .action(async (id, _o, cmd) => (await approve()).permissionsCommand(id, cmd.optsWithGlobals()));

const hooks = root.command("hooks")
  .description("report every Claude session on this machine to the daemon (user-scope Claude Code settings)");
const hooksModule = () => lazy<typeof import("./commands/hooks.ts")>("./commands/hooks.ts");
hooks.command("install")
  .description(
    "add Stratavore's hooks (and telemetry) to your Claude Code settings, keeping yours; backup first",
  )
  .option("--settings <file>", "the settings file (default $CLAUDE_CONFIG_DIR or ~/.claude/settings.json)")
  .option("--no-telemetry", "add the hooks only, not the telemetry settings")
  .action(async (_o, cmd) => (await hooksModule()).hooksInstallCommand(cmd.optsWithGlobals()));
hooks.command("uninstall")
  .description("put your Claude Code settings back as they were before install")
  .option("--settings <file>", "the settings file, if install's record is gone")
  .action(async (_o, cmd) => (await hooksModule()).hooksUninstallCommand(cmd.optsWithGlobals()));
hooks.command("status")
  .description("whether the machine-wide hooks are installed, where, and to which daemon")
  .option("--settings <file>", "the settings file to look at")
  .action(async (_o, cmd) => (await hooksModule()).hooksStatusCommand(cmd.optsWithGlobals()));

root.command("attach")
  .description("connect this terminal to a detached session (detach with Ctrl-], it keeps running)")
  .argument("<runner>", "runner id")
  .option("-r, --read-only", "watch without typing")
  .action(async (id, _o, cmd) => {
    exitCode = await (await lazy<typeof import("./commands/attach.ts")>("./commands/attach.ts"))
      .attachCommand(id, cmd.optsWithGlobals());
  });

// ---- events -------------------------------------------------------------------------------------
const events = root.command("events")
  .description("recent events, or follow them live with -f")
  .option("-f, --follow", "keep printing events as they happen")
  .option("-t, --type <types>", "only these types, e.g. runner.* or runner.failed,budget.*")
  .option("-n, --limit <n>", "how many recent events to print first", "20")
  .action(async (_o, cmd) =>
    (await lazy<typeof import("./commands/events.ts")>("./commands/events.ts")).eventsCommand(
      cmd.optsWithGlobals(),
    )
  );
events.command("dead")
  .description("events the broker refused until they were dead-lettered")
  .action(async (_o, cmd) =>
    (await lazy<typeof import("./commands/events.ts")>("./commands/events.ts")).deadCommand(
      cmd.optsWithGlobals(),
    )
  );
events.command("retry")
  .description("send dead-lettered events again")
  .argument("[id]", "event id")
  .option("--all", "every dead-lettered event")
  .action(async (id, _o, cmd) =>
    (await lazy<typeof import("./commands/events.ts")>("./commands/events.ts")).retryCommand(
      id,
      cmd.optsWithGlobals(),
    )
  );

root.command("watch")
  .description("live dashboard of every runner in this terminal (q to quit)")
  .action(async (_o, cmd) =>
    (await lazy<typeof import("./commands/watch.ts")>("./commands/watch.ts")).watchCommand(
      cmd.optsWithGlobals(),
    )
  );

// ---- sessions, usage and budgets ----------------------------------------------------------------
const sessionsModule = () => lazy<typeof import("./commands/sessions.ts")>("./commands/sessions.ts");
root.command("sessions")
  .description("Claude Code sessions with messages, tokens and cost")
  .option("--project <name>", "only this project's sessions")
  .option("-n, --limit <n>", "at most this many (newest first)")
  .action(async (_o, cmd) => (await sessionsModule()).sessionsCommand(cmd.optsWithGlobals()));
const sessionCmd = root.command("session").description("show or export one session");
sessionCmd.command("show")
  .description("a session's details")
  .argument("<id>", "session id")
  .action(async (id, _o, cmd) => (await sessionsModule()).sessionShowCommand(id, cmd.optsWithGlobals()));
sessionCmd.command("export")
  .description("write a session's stored transcript (JSONL)")
  .argument("<id>", "session id")
  .option("-o, --output <file>", "file to write (default: standard output)")
  .action(async (id, _o, cmd) => (await sessionsModule()).sessionExportCommand(id, cmd.optsWithGlobals()));
root.command("resume")
  .description("continue a session in its project's folder: claude --resume <id>, tracked")
  .argument("<session>", "session id")
  .argument("[args...]", "extra arguments for claude, after --")
  .action(async (id, args, _o, cmd) => {
    exitCode = await (await sessionsModule()).resumeCommand(id, args, cmd.optsWithGlobals());
  });
root.command("usage")
  .description("token usage and estimated cost, by day, project, model or session")
  .option("--project <name>", "only this project")
  .option("--since <when>", "from a date (2026-11-01) or a span back from now (7d)")
  .option("--until <when>", "up to a date (inclusive)")
  .addOption(new Option("--by <group>", "group rows by").choices(["day", "project", "model", "session"]))
  .action(async (_o, cmd) =>
    (await lazy<typeof import("./commands/usage.ts")>("./commands/usage.ts")).usageCommand(
      cmd.optsWithGlobals(),
    )
  );

root.command("pglite-init", { hidden: true })
  .description("create an embedded database folder (the daemon's first start runs it in its own process)")
  .argument("<dir>")
  .action(async (dir) =>
    (await lazy<typeof import("../lib/db/pglite_init.ts")>("../lib/db/pglite_init.ts")).initPgliteDir(dir)
  );

root.command("detached-agent", { hidden: true })
  .description("a detached runner's agent, as the daemon starts it (lib/detached_agent.ts)")
  .argument("<spec>", "the runner and its settings, JSON")
  .argument("[command...]", "the command to run, after --")
  .action(async (spec, command) => {
    exitCode = await (await lazy<typeof import("../agent/detached.ts")>("../agent/detached.ts"))
      .runDetached(spec, command);
  });

root.command("statusline", { hidden: true })
  .description("the statusline Stratavore sets for its sessions (reports limits, runs the user's own)")
  .argument("<config>", "the file the agent wrote for the session")
  .action(async (file) => {
    exitCode = await (await lazy<typeof import("../agent/statusline.ts")>("../agent/statusline.ts"))
      .runStatusline(file);
  });

root.command("limits")
  .description("subscription limits: the 5-hour and weekly windows of each Claude account, time to reset")
  .action(async (_o, cmd) =>
    (await lazy<typeof import("./commands/limits.ts")>("./commands/limits.ts")).limitsCommand(
      cmd.optsWithGlobals(),
    )
  );

const budgetModule = () => lazy<typeof import("./commands/budget.ts")>("./commands/budget.ts");
const budget = root.command("budget").description("token budgets: set, show, rm");
budget.command("set")
  .description("set a budget: budget set project api --tokens 5000000 --period month --warn 80,95")
  .argument("<scope>", "global, project or runner")
  .argument("[name]", "project name or runner id")
  .option("--tokens <n>", "token limit per period")
  .option("--cost <usd>", "cost limit per period (USD, estimated from the price table)")
  .addOption(
    new Option("--period <period>", "day, week, month or none").choices(["day", "week", "month", "none"]),
  )
  .option("--warn <percents>", "warning thresholds, e.g. 80,95 (none for no warnings)")
  .addOption(new Option("--policy <policy>", "when exhausted: block launches, or also stop runners").choices([
    "block",
    "stop",
  ]))
  .option("--reserve <tokens>", "tokens held for each active runner (admits only launches that fit)")
  .option("--timezone <tz>", "time zone of the period boundaries (default STRATAVORE_BUDGET_TIMEZONE, UTC)")
  .action(async (scope, name, _o, cmd) =>
    (await budgetModule()).budgetSetCommand(scope, name, cmd.optsWithGlobals())
  );
budget.command("show")
  .description("budgets with usage bars and time to reset")
  .argument("[scope]", "global, project or runner")
  .argument("[name]", "project name or runner id")
  .action(async (scope, name, _o, cmd) =>
    (await budgetModule()).budgetShowCommand(scope, name, cmd.optsWithGlobals())
  );
budget.command("rm")
  .description("remove a budget")
  .argument("<scope>", "global, project or runner")
  .argument("[name]", "project name or runner id")
  .action(async (scope, name, _o, cmd) =>
    (await budgetModule()).budgetRmCommand(scope, name, cmd.optsWithGlobals())
  );

// ---- notifications ------------------------------------------------------------------------------
root.command("notify")
  .description("Telegram notifications")
  .command("test")
  .description("have the daemon send a test message and print exactly what Telegram answered")
  .action(async (_o, cmd) => {
    exitCode = await (await lazy<typeof import("./commands/notify.ts")>("./commands/notify.ts"))
      .notifyTestCommand(cmd.optsWithGlobals());
  });

// ---- web dashboard ------------------------------------------------------------------------------
root.command("ui")
  .description("open the web dashboard with a one-time sign-in link (printed too)")
  .option("--no-open", "only print the link, do not start a browser")
  .action(async (_o, cmd) => {
    exitCode = await (await lazy<typeof import("./commands/ui.ts")>("./commands/ui.ts")).uiCommand(
      cmd.optsWithGlobals(),
    );
  });

// ---- settings -----------------------------------------------------------------------------------
root.command("config")
  .description("print the effective settings (secrets masked) and where each came from")
  .action(async (_o, cmd) =>
    (await lazy<typeof import("./commands/config.ts")>("./commands/config.ts")).configCommand(
      cmd.optsWithGlobals(),
    )
  );

root.command("completions")
  .description("print a shell completion script: stratavore completions bash > …")
  .addArgument(new Argument("<shell>", "the shell").choices(["bash", "zsh", "fish", "powershell"]))
  .action(async (shell) =>
    (await lazy<typeof import("./commands/completions.ts")>("./commands/completions.ts"))
      .completionsCommand(shell, program)
  );

// ---- run ----------------------------------------------------------------------------------------
/** Runs one command line; its exit code. */
export async function main(argv: string[]): Promise<number> {
  const override = (cmd: { exitOverride(): unknown; commands: readonly unknown[] }): void => {
    cmd.exitOverride();
    for (const sub of cmd.commands) override(sub as typeof cmd);
  };
  override(program);
  try {
    await program.parseAsync(argv, { from: "user" });
    return exitCode;
  } catch (e) {
    const { reportError } = await lazy<typeof import("./errors.ts")>("./errors.ts");
    if (e instanceof CommanderError) {
      // Help and version end with code 0; every other parse failure is a usage error.
      return e.exitCode === 0 || e.code === "commander.helpDisplayed" || e.code === "commander.version"
        ? 0
        : 2;
    }
    return reportError(e);
  }
}
