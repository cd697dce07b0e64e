/**
 * A runner's session, once the daemon knows the runner: make its worktree, start the command with Claude
 * Code's hooks, telemetry and statusline pointed at the daemon, keep the link and heartbeats, follow the
 * transcripts, and report the exit. Both ways an agent starts end here: `stratavore agent` (agent/main.ts,
 * which reads the config and registers the runner) and the daemon's detached agents (agent/detached.ts,
 * given their settings by the daemon). Nothing here loads zod or a role's packages: this is what runs beside
 * every session all day (tests/layout_test.ts, docs/performance.md).
 */
import { parseEnvList, sessionEnvironment } from "../lib/session_env.ts";
import type { RunnerClient } from "../lib/runner_client.ts";
import type { AgentSettings } from "../lib/detached_agent.ts";
import { claudeConfigDirs } from "../lib/claude/paths.ts";
import { HOOK_ENV, quotePosix, runnerHookSettings } from "../lib/claude/hooks.ts";
import { autoContinueAtLimit, settingsFiles, userStatusline } from "../lib/claude/settings.ts";
import { statuslineArgv } from "../lib/self.ts";
import type { StatuslineConfig } from "./statusline.ts";
import { homePath } from "../lib/home.ts";
import { log } from "../lib/log.ts";
import { onStopSignal, signalToPass } from "../lib/signals.ts";
import type { WorktreeInfo } from "../lib/schemas/worktree.ts";
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
import { worktreeRoot } from "../lib/worktree.ts";

export type HeldSignals = { deliver(fn: (sig: Deno.Signal) => void): void; off(): void };

/**
 * How long Claude Code waits for the daemon's answer to a PermissionRequest hook: the daemon ends the wait
 * itself at the project's approval timeout; this only bounds it if the daemon goes away meanwhile (the
 * dialog is on screen all along, so the person at the terminal is never blocked).
 */
const PERMISSION_WAIT_S = 86_400;

/** How long a stop waits for the command before ending its process tree, unless `--stop-grace` says. */
export const STOP_GRACE_MS = 10_000;

export interface SessionInput {
  settings: AgentSettings;
  runner: {
    id: number;
    /** "" when unknown (a runner given with --runner and no --project). */
    project: string;
    cwd: string;
    /** The worktree the daemon planned for it, made here before the command starts. */
    worktree: WorktreeInfo | null;
  };
  /** The command line to run, as the daemon planned it. */
  command: string[];
  client: RunnerClient;
  token: string;
  mode: RunMode;
  /** Headless: the file that keeps the command's output. */
  log?: string;
  /** Foreground launches print one line before and after the session; not with this. */
  quiet?: boolean;
  /** A heartbeat interval the user chose (the daemon's is followed otherwise). */
  heartbeatMs?: number;
  /** How long a stop waits for the command before ending its process tree. */
  grace: number;
  /** Signals caught since the agent started, passed to the command once it runs. */
  signals: HeldSignals;
  /** The token came from our own launch (one given to us is trusted once the daemon accepts it). */
  tokenTrusted: boolean;
}

/** Stop signals caught before the command exists are kept, then delivered to the handler once it is set. */
export function holdStopSignals(): HeldSignals {
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

export async function runSession(s: SessionInput): Promise<number> {
  const { client, token, command } = s;
  const runner = s.runner;
  const config = s.settings;
  let cwd = runner.cwd;
  const runDir = homePath(config.home, "runs", String(runner.id));
  await Deno.mkdir(runDir, { recursive: true });
  await Deno.mkdir(homePath(config.home, "logs"), { recursive: true });
  log.configure({ sink: fileSink(homePath(config.home, "logs", `${runner.id}.agent.log`)), format: "json" });
  log.redact(token);
  const rlog = log.child({ runner: runner.id, project: runner.project || undefined });

  // The worktree the daemon planned (from our launch, or given to a detached agent): made here, run in.
  const wtPlan = runner.worktree;
  let worktree: WorktreeWatch | undefined;
  if (wtPlan?.state === "planned") {
    let wt;
    try {
      wt = await makeWorktree(wtPlan, {
        root: worktreeRoot(config),
        project: runner.project || "project",
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
  const mode = s.mode;
  const headless = mode === "headless";

  // What the daemon says about the runner, by the link, a heartbeat or a refusal, is acted on here.
  const late: { loop?: HeartbeatLoop; link?: AgentLink } = {};
  const control = new SessionControl(s.grace, rlog, {
    onEnded: () => late.loop?.end(),
    // A terminal stays reachable through the daemon (to attach and end the session by hand).
    onDetach: () => mode !== "pty" && late.link?.close(),
  });
  // A token from our own launch works; one given with --runner is trusted once the daemon accepts it.
  let tokenWorked = s.tokenTrusted;

  let started;
  try {
    started = await startCommand({
      mode,
      command: command[0],
      args,
      cwd,
      env,
      logPath: s.log,
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
  if (mode === "interactive" && !s.quiet) {
    console.error(
      `stratavore: runner ${runner.id}${runner.project ? ` (${runner.project})` : ""} started${
        worktree ? ` in worktree ${cwd} (branch ${wtPlan!.branch})` : ""
      }`,
    );
  }
  worktree?.start();

  const hookWatch = watchHookEvents(eventsFile, (h) => {
    tracker.watchSession(h.sessionId, h.transcriptPath);
    client.claudeHook(runner.id, h.input).catch((e) =>
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
    intervalMs: s.heartbeatMs ?? config.heartbeatInterval,
    followServer: s.heartbeatMs === undefined,
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
  s.signals.deliver((sig) => {
    const pass = signalToPass(sig, interactive);
    if (!pass) return;
    rlog.info("passing a signal to the command", { signal: sig });
    child.signal(pass);
  });

  const status = await child.status;
  s.signals.off();
  await started.finish(status);
  await captured.catch(() => {});
  // The limit's figures reach the daemon before the exit does: a run cut off by it is continued later.
  await limits?.flush();
  await loop.stop();
  await captured.catch(() => {});
  await hookWatch.poll();
  hookWatch.close();
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
  if (!headless && !s.quiet) {
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
