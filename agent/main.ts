/**
 * `stratavore agent [--project P] [--runner ID] -- <command> [args…]`: register → spawn → heartbeat →
 * report the exit. Invisible when things go well: the command owns the terminal, the agent logs to a file.
 */
import { privateUmask } from "../lib/private_files.ts";
import { parseEnvList, sessionEnvironment } from "../lib/session_env.ts";
import { contextFrom, type GlobalOptions } from "../lib/startup.ts";
import { StratavoreClient } from "../lib/client.ts";
import { type CommandLine, planCommandLine, type ProjectCommand } from "../lib/command_line.ts";
import { claudeConfigDirs } from "../lib/claude/paths.ts";
import { HOOK_ENV, quotePosix, runnerHookSettings } from "../lib/claude/hooks.ts";
import { autoContinueAtLimit, settingsFiles, userStatusline } from "../lib/claude/settings.ts";
import { statuslineArgv } from "../lib/self.ts";
import type { StatuslineConfig } from "./statusline.ts";
import { clientFor, daemonUrl } from "../lib/discover.ts";
import { parseDuration } from "../lib/duration.ts";
import { AppError } from "../lib/errors.ts";
import { homePath } from "../lib/home.ts";
import { log } from "../lib/log.ts";
import type { Runner } from "../lib/schemas/runner.ts";
import type { Project } from "../lib/schemas/project.ts";
import { onStopSignal } from "../lib/signals.ts";

/** Stop signals caught before the command exists are kept, then delivered to the handler once it is set. */
function holdStopSignals(): { deliver(fn: (sig: Deno.Signal) => void): void; off(): void } {
  const early: Deno.Signal[] = [];
  let handler: ((sig: Deno.Signal) => void) | undefined;
  const off = onStopSignal((sig) => (handler ? handler(sig) : early.push(sig)));
  return {
    deliver(fn) {
      handler = fn;
      for (const sig of early.splice(0)) fn(sig);
    },
    off,
  };
}
import { which } from "../lib/which.ts";
import { type RunMode, startCommand } from "./command.ts";
import { SessionControl } from "./control.ts";
import type { AgentLink } from "./link.ts";
import { isClaude, planSession, type SessionPlan } from "./claude_args.ts";
import { fileSink } from "./file_log.ts";
import { HeartbeatLoop } from "./heartbeat.ts";
import { CpuMeter, TreeSampler } from "./stats.ts";
import { UsageOutbox, UsageTracker } from "./usage.ts";
import { watchHookEvents } from "./hook_events.ts";
import { reportExit } from "./report.ts";
import { LimitReporter } from "./limits.ts";
import { accountOf } from "../lib/claude/limits.ts";
import { type SessionTelemetry, sessionTelemetry } from "./telemetry.ts";
import { uploadTranscripts } from "./transcript_upload.ts";
import { fromError, fromState } from "./verdict.ts";
import { makeWorktree, worktreeSummary, WorktreeWatch } from "./worktree.ts";
import { gitRef, worktreeInfo, worktreeName, type WorktreeRequest } from "../lib/schemas/worktree.ts";
import { checkWorktree, worktreeBranch, worktreePath, worktreeRoot } from "../lib/worktree.ts";

/**
 * What the agent runs: a command line of its own (`stratavore agent -- cmd args`, and the daemon's detached
 * agents, given the runner's planned command line), or its project's command with extra arguments
 * (`launch`, `resume`), planned by the daemon (lib/command_line.ts) when it registers the runner.
 */
export type AgentCommand =
  | { argv: string[] }
  | { project: ProjectCommand & Partial<Pick<Project, "name" | "worktree">>; extraArgs: string[] };

/**
 * How long Claude Code waits for the daemon's answer to a PermissionRequest hook: the daemon ends the wait
 * itself at the project's approval timeout; this only bounds it if the daemon goes away meanwhile (the
 * dialog is on screen all along, so the person at the terminal is never blocked).
 */
const PERMISSION_WAIT_S = 86_400;

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
  /** A detached agent's worktree as the daemon planned it (JSON; set by the daemon). */
  worktreePlan?: string;
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

async function register(opts: AgentOptions, what: AgentCommand, cwd: string): Promise<Registered> {
  const { config } = contextFrom(opts).loaded;
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
  const grace = opts.stopGrace ? parseDuration(opts.stopGrace) ?? 10_000 : 10_000;

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

  const { runner, client, token } = await register(opts, what, opts.cwd ?? Deno.cwd());
  let cwd = runner.cwd || opts.cwd || Deno.cwd();
  // The command line the daemon recorded for the runner when it registered it here; a detached agent's
  // (--runner) is the one it was given, which the daemon planned the same way.
  const command = "argv" in what ? what.argv : [runner.command, ...runner.args];
  const runDir = homePath(config.home, "runs", String(runner.id));
  await Deno.mkdir(runDir, { recursive: true });
  await Deno.mkdir(homePath(config.home, "logs"), { recursive: true });
  log.configure({ sink: fileSink(homePath(config.home, "logs", `${runner.id}.agent.log`)), format: "json" });
  log.redact(token);
  const rlog = log.child({ runner: runner.id, project: runner.project || undefined });

  // The worktree the daemon planned (from our launch, or given to a detached agent): made here, run in.
  const wtPlan = opts.runner
    ? (opts.worktreePlan ? worktreeInfo.parse(JSON.parse(opts.worktreePlan)) : null)
    : runner.worktree;
  let worktree: WorktreeWatch | undefined;
  if (wtPlan?.state === "planned") {
    let wt;
    try {
      wt = await makeWorktree(wtPlan, {
        root: worktreeRoot(config),
        project: runner.project || opts.project || "project",
        runnerId: runner.id,
        folder: cwd,
      });
    } catch (e) {
      await reportExit(client, runner.id, {
        exitCode: null,
        reason: `could not make the worktree: ${(e as Error).message}`,
      }, rlog);
      throw e;
    }
    cwd = wt.cwd;
    worktree = new WorktreeWatch({
      client,
      runnerId: runner.id,
      wt,
      // Its status is read at least every 5 s (a few git commands), and sent only when it changed.
      intervalMs: Math.min(config.heartbeatInterval, 5000),
      log: rlog,
    });
    await worktree.tick(); // the daemon learns the folder before the command starts
  }

  // Claude Code: pin the session, and register our hooks through a settings file of our own.
  let plan: SessionPlan = { extraArgs: [], ownSettings: true };
  let args = command.slice(1);
  const eventsFile = homePath(runDir, "hook-events.jsonl");
  await Deno.writeTextFile(eventsFile, ""); // exists from the start: polling a missing file costs more
  // The session's environment: the allowlist and the user's sessionEnv, never a secret (lib/session_env.ts).
  const env: Record<string, string> = {
    ...sessionEnvironment(Deno.env.toObject(), parseEnvList(config.sessionEnv)),
    [HOOK_ENV.runner]: String(runner.id),
    [HOOK_ENV.events]: eventsFile,
  };
  // The session never needs the admin token, nor the runner's (its hooks carry it in their settings file).
  delete env.STRATAVORE_TOKEN;
  delete env[HOOK_ENV.token];
  let telemetry: SessionTelemetry | undefined;
  let limits: LimitReporter | undefined;
  let autoContinue: boolean | undefined;
  if (isClaude(command[0])) {
    const userHome = Deno.env.get("HOME") ?? Deno.env.get("USERPROFILE") ?? ".";
    const account = await accountOf(env, userHome);
    const userSettings = settingsFiles(env, userHome, cwd);
    autoContinue = await autoContinueAtLimit(userSettings);
    limits = new LimitReporter(client, runner.id, account, rlog, autoContinue);
    plan = planSession(args);
    telemetry = await sessionTelemetry(config, env, cwd, { url: client.url, runnerId: runner.id, token });
    Object.assign(env, telemetry.env);
    if (telemetry.mode === "user") {
      rlog.info(
        "the session exports telemetry to the user's own collector; costs are estimated from transcripts",
        {
          endpoint: telemetry.endpoint,
        },
      );
    }
    const extra = [...plan.extraArgs];
    if (!plan.ownSettings) {
      const settings = homePath(runDir, "claude-settings.json");
      // Our telemetry variables also go into the settings' env: a user settings file that sets OTEL_* would
      // otherwise win over the process environment (settings given with --settings rank above it).
      const hooks = runnerHookSettings({
        url: client.url,
        runnerId: runner.id,
        token,
        eventsFile,
        permissionTimeoutS: PERMISSION_WAIT_S,
      });
      // Our statusline reports the subscription windows, then prints what the user's own would.
      const statusFile = homePath(runDir, "statusline.json");
      const own = await userStatusline(userSettings);
      const statusConfig: StatuslineConfig = {
        url: client.url,
        runnerId: runner.id,
        token,
        account,
        autoContinue,
        ...(own ? { command: own.command } : {}),
      };
      await Deno.writeTextFile(statusFile, JSON.stringify(statusConfig), { mode: 0o600 });
      const statusLine = {
        type: "command",
        command: statuslineArgv(statusFile).map((a) => quotePosix(a.replaceAll("\\", "/"))).join(" "),
        ...(own?.padding !== undefined ? { padding: own.padding } : {}),
      };
      await Deno.writeTextFile(
        settings,
        JSON.stringify(
          { ...hooks, statusLine, ...(telemetry.mode === "stratavore" ? { env: telemetry.env } : {}) },
          null,
          2,
        ),
        { mode: 0o600 },
      );
      extra.push("--settings", settings);
    } else {rlog.warn(
        "the command has its own --settings: busy/waiting state from hooks is off for this runner",
      );}
    args = [...extra, ...args];
  }

  const tracker = new UsageTracker({
    configDirs: claudeConfigDirs(
      Deno.env.toObject(),
      Deno.env.get("HOME") ?? Deno.env.get("USERPROFILE") ?? ".",
    ),
    cwd,
    discover: isClaude(command[0]) && !plan.sessionId,
    resumed: plan.resumed && plan.sessionId ? [plan.sessionId] : [],
  });
  if (plan.sessionId) tracker.watchSession(plan.sessionId);
  // A resumed transcript is measured now, before the session adds to it.
  if (plan.resumed) await tracker.poll();
  const mode: RunMode = opts.pty ? "pty" : opts.log !== undefined ? "headless" : "interactive";
  const headless = mode === "headless";

  // What the daemon says about the runner, by the link, a heartbeat or a refusal, is acted on here.
  const late: { loop?: HeartbeatLoop; link?: AgentLink } = {};
  const control = new SessionControl(grace, rlog, {
    onEnded: () => late.loop?.end(),
    // A terminal stays reachable through the daemon (to attach and end the session by hand).
    onDetach: () => mode !== "pty" && late.link?.close(),
  });
  // A token from our own launch works; one given with --runner is trusted once the daemon accepts it.
  let tokenWorked = !opts.runner;

  let started;
  try {
    started = await startCommand({
      mode,
      command: command[0],
      args,
      cwd,
      env,
      logPath: opts.log,
      client,
      runnerId: runner.id,
      token,
      scrollback: config.scrollback,
      log: rlog,
      onSession: (id) => tracker.watchSession(id),
      onRateLimit: (f) => f.rateLimit && limits?.push("stream", f.rateLimit),
      link: {
        onUp: () => (tokenWorked = true),
        onMessage: (msg) => {
          if (msg.t === "state") control.act(fromState(msg.state, msg.stopRequested, msg.reason), "link");
          else if (msg.t === "stop") {
            control.act({ do: "stop", ended: false, why: reasonOf("stop requested", msg) }, "link");
          } else if (msg.t === "kill") {
            control.act({ do: "kill", ended: true, why: reasonOf("killed", msg) }, "link");
          }
        },
        // Refused outright (a revoked token, a deleted runner): a heartbeat now brings the daemon's reason.
        onRefused: () => late.loop?.soon(),
      },
    });
  } catch (e) {
    await reportExit(client, runner.id, { exitCode: null, reason: (e as Error).message }, rlog);
    throw e;
  }
  const { child, facts, captured } = started;
  late.link = started.link;
  control.attach(child);
  if (mode === "interactive" && !opts.quiet) {
    console.error(
      `stratavore: runner ${runner.id}${runner.project ? ` (${runner.project})` : ""} started${
        worktree ? ` in worktree ${cwd} (branch ${wtPlan!.branch})` : ""
      }`,
    );
  }
  worktree?.start();

  const hookWatch = watchHookEvents(eventsFile, (h) => {
    tracker.watchSession(h.session_id, h.transcript_path || undefined);
    client.claudeHook(runner.id, h).catch((e) =>
      rlog.debug("could not pass SessionStart on; the session's next hook tells the daemon", {
        error: (e as Error).message,
      })
    );
  });

  try {
    await client.started(runner.id, {
      pid: child.pid,
      host: Deno.hostname(),
      sessionId: plan.sessionId,
      command: command[0],
      args,
      ...(telemetry ? { telemetry: telemetry.mode, telemetryEndpoint: telemetry.endpoint } : {}),
      ...(autoContinue !== undefined ? { autoContinue } : {}),
    });
    tokenWorked = true;
  } catch (e) {
    const action = fromError(e, tokenWorked);
    if (action) control.act(action, "start report");
    else rlog.warn("could not report the start; heartbeats will retry", { error: (e as Error).message });
  }

  const meter = new CpuMeter();
  const sampler = new TreeSampler(child.pid);
  meter.update(await sampler.sample());
  const outbox = new UsageOutbox();
  const loop = new HeartbeatLoop({
    client,
    runnerId: runner.id,
    intervalMs: userInterval ?? config.heartbeatInterval,
    followServer: userInterval === undefined,
    log: rlog,
    sample: async () => {
      await hookWatch.poll();
      await tracker.poll();
      const stats = meter.update(await sampler.sample());
      const usage = outbox.pending(tracker.totals());
      return {
        pid: child.pid,
        cpuPercent: stats.cpuPercent,
        rssBytes: stats.rssBytes,
        sessionId: tracker.sessionId,
        tokens: tracker.tokens(),
        ...(usage.length ? { usage } : {}),
      };
    },
    handlers: {
      onAccepted: (body) => {
        tokenWorked = true;
        outbox.ack(body.usage);
      },
      onAction: (action) => control.act(action, "heartbeat"),
      tokenWorked: () => tokenWorked,
    },
  });
  late.loop = loop;
  if (control.ended) loop.end();
  loop.start();

  const interactive = mode === "interactive" && Deno.stdin.isTerminal();
  signals.deliver((sig) => {
    // In a terminal, Ctrl-C already reached the whole foreground process group, the command included:
    // passing it on would deliver it twice (and make Claude Code exit instead of interrupting).
    if (sig === "SIGINT" && interactive) return;
    rlog.info("passing a signal to the command", { signal: sig });
    child.signal(sig === "SIGBREAK" ? "SIGTERM" : sig);
  });

  const status = await child.status;
  signals.off();
  await started.finish(status);
  await captured.catch(() => {});
  // The limit's figures reach the daemon before the exit does: a run cut off by it is continued later.
  await limits?.flush();
  await loop.stop();
  await captured.catch(() => {});
  await hookWatch.poll();
  await tracker.poll({ thorough: true });
  // A headless run's result event carries Claude Code's own cost per model: the source of its cost.
  const reported = headless && facts.sessionId
    ? (facts.result?.modelUsage ?? []).map((m) => ({ sessionId: facts.sessionId!, ...m }))
    : [];
  if (headless && facts.result?.usage && facts.sessionId && tracker.totals().length === 0) {
    // No transcript on this machine (or not readable): the result event's usage is what there is.
    const u = facts.result.usage;
    await loop.finalBeat({
      usage: [{ sessionId: facts.sessionId, model: facts.model ?? "unknown", ...u }],
      ...(reported.length ? { reported } : {}),
    });
  } else if (!loop.ended && (outbox.pending(tracker.totals()).length > 0 || reported.length > 0)) {
    await loop.finalBeat(reported.length ? { reported } : {});
  }
  const reason = headless && facts.limitRefused
    ? `stopped by the usage limit${
      facts.rateLimit?.resetsAt ? ` until ${new Date(facts.rateLimit.resetsAt * 1000).toISOString()}` : ""
    }`
    : headless && facts.result
    ? `${facts.result.isError ? "failed" : "completed"}: ${facts.result.numTurns ?? "?"} turn(s)${
      facts.result.costUsd !== undefined ? `, $${facts.result.costUsd.toFixed(4)}` : ""
    }`
    : undefined;
  const kept = await worktree?.finish();
  await reportExit(client, runner.id, { exitCode: status.code, signal: status.signal, reason }, rlog);
  await uploadTranscripts(client, runner.id, tracker.transcripts(), rlog);
  await Deno.remove(runDir, { recursive: true }).catch(() => {});
  if (!headless && !opts.quiet) {
    console.error(
      `stratavore: runner ${runner.id} ended (exit ${status.code}${
        status.signal ? `, ${status.signal}` : ""
      })`,
    );
    if (kept) {
      console.error(
        kept.removed
          ? `stratavore: worktree removed (${kept.note.replace(/^removed: /, "")})`
          : `stratavore: worktree kept at ${cwd} (branch ${wtPlan!.branch}: ${
            worktreeSummary(kept.status)
          }); review it with "stratavore diff ${runner.id}"`,
      );
    }
  }
  return status.code;
}

function reasonOf(what: string, msg: { reason: string | null }): string {
  return msg.reason && msg.reason !== what ? `${what} (${msg.reason})` : what;
}
