/** `stratavore daemon`: open the database → migrate → start servers and loops → wait → shut down in order. */
import { contextFrom, type GlobalOptions } from "../lib/startup.ts";
import type { Config } from "../lib/config.ts";
import { AppError } from "../lib/errors.ts";
import { ensureApiToken, homePath } from "../lib/home.ts";
import { lockHome, removeDaemonInfo, writeDaemonInfo } from "../lib/daemon_info.ts";
import { isLoopback, listenUrl, parseListen } from "../lib/listen.ts";
import { log } from "../lib/log.ts";
import { migrate } from "../lib/db/migrate.ts";
import { dataDir, openDb, openTelemetryDb } from "../lib/db/open.ts";
import type { Db, Queryable } from "../lib/db/types.ts";
import { onStopSignal } from "../lib/signals.ts";
import { privateUmask, tightenTree } from "../lib/private_files.ts";
import { VERSION } from "../lib/version.ts";
import { buildApp } from "./app.ts";
import { guardHost } from "./http/host.ts";
import { DashboardSessions } from "./http/dashboard_sessions.ts";
import { RequestDrain } from "./http/drain.ts";
import { heartbeatFastPath } from "./routes/heartbeat.ts";
import { HeartbeatBatcher } from "./heartbeats.ts";
import type { Loop } from "./loop.ts";
import { startReconciler } from "./reconciler.ts";
import { makePublisher, startEvents } from "./events.ts";
import { createObservability } from "./observability.ts";
import { PermissionWaiters } from "./permissions.ts";
import type { UsageDelta } from "./store/usage.ts";
import { UiLinks } from "./routes/ui.ts";
import { routeTable } from "./routes/mod.ts";
import { admitUnderLimits, startLimitLoop } from "./limits.ts";
import { admitLaunch, recordBudgetUsage } from "./store/budget_enforce.ts";
import { LocalTranscriptStore } from "./transcripts.ts";
import { PtyHub } from "./pty/hub.ts";
import { AgentLinks } from "./link/links.ts";
import { agentSpawner } from "./spawn.ts";
import type { Services } from "./services.ts";
import { emit } from "./store/outbox.ts";
import { installationOf } from "./store/daemons.ts";
import { AgentTokenCache } from "./store/tokens.ts";

export async function runDaemon(opts: GlobalOptions): Promise<void> {
  // Before anything is written (the log file, the home, the database): see lib/private_files.ts.
  privateUmask();
  const { loaded } = contextFrom(opts, { daemon: true });
  const config = loaded.config;
  // Listening from the first moment: a signal during start-up must not kill the process half-way. The
  // first signal starts a graceful shutdown, a second one ends the process at once.
  let signals = 0;
  const stopRequested = new Promise<Deno.Signal>((resolve) => {
    onStopSignal((sig) => {
      if (++signals === 1) return resolve(sig);
      log.warn("second stop signal: exiting now");
      removeDaemonInfo(config.home);
      Deno.exit(130);
    });
  });
  const daemon = await startDaemon(config);
  const signal = await stopRequested;
  const watchdog = setTimeout(() => {
    log.error("shutdown took too long; exiting now", { limitMs: config.shutdownTimeout });
    removeDaemonInfo(config.home);
    Deno.exit(1);
  }, config.shutdownTimeout);
  await daemon.stop(signal);
  clearTimeout(watchdog);
}

/** A daemon started in this process: runDaemon waits for a signal to stop it, in-process tests call stop(). */
export interface RunningDaemon {
  url: string;
  services: Services;
  /**
   * The graceful shutdown, in order; `signal` is what daemon.stopped reports. `graceMs` caps the waits for
   * requests in flight, the relay and the notifications (default: a third of shutdownTimeout, the last two
   * at most 2 s); a finished test gives 0, and what was not delivered stays in the outbox.
   */
  stop(signal?: Deno.Signal, opts?: { graceMs?: number }): Promise<void>;
}

export interface StartOptions {
  /** The environment sessions inherit (its allowlisted part) and the launch account is read from. */
  env?: Record<string, string>;
}

/**
 * Opens, migrates, serves and starts the loops; process-wide concerns (signals, the exit watchdog, the log's
 * configuration, the private umask) stay with the caller, so several daemons can start and stop one after
 * another in one process.
 */
export async function startDaemon(config: Config, opts: StartOptions = {}): Promise<RunningDaemon> {
  const listen = parseListen(config.listen)!;
  const lock = await lockHome(config.home);
  await tightenHome(config.home);
  const adminToken = ensureApiToken(config.home);
  log.redact(adminToken);
  if (!isLoopback(listen.hostname)) {
    log.warn("the API listens beyond this machine; every call needs the admin token or a runner token", {
      listen: config.listen,
    });
  }

  const db = await openDatabase(config);
  const telemetryDb = await openTelemetryDb(config, db);
  const startedAt = new Date();
  const services: Services = {
    db,
    config,
    log,
    daemonId: daemonId(config.home),
    installation: await installationOf(db),
    startedAt,
    url: "",
    host: Deno.hostname(),
    adminToken,
    tokens: new AgentTokenCache(config.runnerTokenGrace),
    heartbeats: new HeartbeatBatcher(telemetryDb),
    broker: { kind: "embedded", location: "in-process" },
    env: opts.env ?? Deno.env.toObject(),
  };
  const publisher = makePublisher(services);
  services.broker = { kind: publisher.kind, location: publisher.location };
  const observability = createObservability(services);
  const events = await startEvents(services, publisher, observability.eventHooks);

  const shutdown = new AbortController();
  const transcripts = new LocalTranscriptStore(config.home);
  const uiLinks = new UiLinks();
  services.dashboards = new DashboardSessions(db);
  const ptyHub = new PtyHub(config.scrollback, log.child({ component: "pty" }));
  const links = new AgentLinks(db, ptyHub, log.child({ component: "link" }));
  await links.start();
  const drain = new RequestDrain();
  const waiters = new PermissionWaiters(db, log.child({ component: "permissions" }));
  await waiters.start();
  const bookBudgets = (tx: Queryable, deltas: UsageDelta[]) => recordBudgetUsage(tx, deltas, Date.now());
  // A runner that ended (on any daemon sharing the database) has its token's cached row dropped here, so
  // the grace for its last report starts counting at once rather than after the cache's TTL.
  events.tail.subscribe((e) => {
    if (/^runner\.(stopped|failed|killed)$/.test(e.type)) services.tokens.forget(Number(e.entityId));
  });
  const agentHooks = { afterUsage: bookBudgets, prices: config.prices };
  const app = buildApp(
    services,
    routeTable({
      services,
      shutdown: shutdown.signal,
      runners: {
        spawnAgent: agentSpawner(services),
        admit: async (tx, p, req) => {
          await admitUnderLimits(services, tx, p, req);
          await admitLaunch(tx, p, Date.now());
        },
      },
      agent: agentHooks,
      observability,
      events: events.tail,
      transcripts,
      links,
      ptyHub,
      waiters,
      uiLinks,
    }),
    { drain, onRequest: observability.onRequest },
  );
  const heartbeat = heartbeatFastPath(services, {
    hooks: agentHooks,
    drain,
    onRequest: observability.onRequest,
  });
  let server: Deno.HttpServer<Deno.NetAddr>;
  try {
    server = Deno.serve(
      {
        hostname: listen.hostname,
        port: listen.port,
        onListen: () => {},
      },
      guardHost(
        config.allowedHosts,
        (req, info) => heartbeat(req) ?? app.fetch(req, { remoteAddr: info.remoteAddr }),
      ),
    );
  } catch (e) {
    await events.stop(0);
    await db.close();
    lock.close();
    throw new AppError(
      "failed",
      `cannot listen on ${config.listen}: ${
        (e as Error).message
      } (set STRATAVORE_LISTEN or --listen to a free address)`,
    );
  }
  services.url = listenUrl(server.addr);

  await registerDaemon(services);
  const limitLoop = startLimitLoop(services, {
    spawnAgent: agentSpawner(services),
    admit: (tx, p) => admitLaunch(tx, p, Date.now()),
  });
  // The events that make work for the limit queue, from any daemon sharing the database.
  events.tail.subscribe((e) => {
    if (e.type === "runner.limited" || e.type.startsWith("limits.")) limitLoop.arm();
  });
  const loops: Loop[] = [startReconciler(services), limitLoop];
  const metricsUrl = await observability.start();
  await db.transaction((tx) =>
    emit(tx, {
      type: "daemon.started",
      entityId: services.daemonId,
      payload: { daemonId: services.daemonId, version: VERSION, url: services.url, host: services.host },
    })
  );

  writeDaemonInfo(config.home, {
    pid: Deno.pid,
    url: services.url,
    metricsUrl,
    version: VERSION,
    startedAt: startedAt.toISOString(),
    home: config.home,
    database: db.kind,
  });
  const where = db.kind === "embedded" ? `embedded PGlite in ${db.location}` : `PostgreSQL at ${db.location}`;
  log.info(`stratavore daemon listening on ${services.url}; data: ${where}`, {
    version: VERSION,
    home: config.home,
    pid: Deno.pid,
  });

  let stopped: Promise<void> | undefined;
  const stop = async (signal: Deno.Signal, graceMs = config.shutdownTimeout / 3) => {
    log.info("shutting down", { signal });

    // Requests in flight finish first (new ones get 503): Deno's server.shutdown() would cut their bodies.
    if (!await drain.drain(graceMs)) {
      log.warn("requests still running at shutdown", { inFlight: drain.inFlight });
    }
    shutdown.abort();
    await links.stop();
    await waiters.stop();
    ptyHub.closeAll();
    await server.shutdown();
    await Promise.all(loops.map((l) => l.stop()));
    await services.heartbeats.drain();
    try {
      await db.transaction((tx) =>
        emit(tx, {
          type: "daemon.stopped",
          entityId: services.daemonId,
          payload: { daemonId: services.daemonId, version: VERSION, signal },
        })
      );
    } catch (e) {
      log.warn("could not record the daemon.stopped event", { error: e as Error });
    }
    // Give the relay a moment to deliver what is due (daemon.stopped included); the rest waits in the outbox.
    await events.stop(Math.min(2000, graceMs));
    // Then send the notifications that are due (daemon.stopped too); the rest wait for the next start.
    await observability.stop(Math.min(2000, graceMs));
    if (telemetryDb !== db) await telemetryDb.close();
    await db.close();
    removeDaemonInfo(config.home);
    lock.close();
    log.info("stopped");
  };
  return {
    url: services.url,
    services,
    stop: (signal = "SIGTERM", opts = {}) => stopped ??= stop(signal, opts.graceMs),
  };
}

/** A stable id per home, so a restarted daemon recognises its own leftovers (outbox leases). */
function daemonId(home: string): string {
  const path = homePath(home, "daemon-id");
  try {
    const id = Deno.readTextFileSync(path).trim();
    if (id) return id;
  } catch { /* first start */ }
  const id = `${Deno.hostname().replace(/[^A-Za-z0-9.-]/g, "-").slice(0, 40)}-${
    crypto.randomUUID().slice(0, 8)
  }`;
  Deno.writeTextFileSync(path, id + "\n");
  return id;
}

async function registerDaemon(s: Services): Promise<void> {
  await s.db.query(
    `INSERT INTO daemons (id, url, host, version, started_at, last_seen_at) VALUES ($1, $2, $3, $4, $5, now())
     ON CONFLICT (id) DO UPDATE SET url = excluded.url, host = excluded.host, version = excluded.version,
       started_at = excluded.started_at, last_seen_at = now()`,
    [s.daemonId, s.url, s.host, VERSION, s.startedAt],
  );
}

export async function openDatabase(config: Pick<Config, "databaseUrl" | "home">): Promise<Db> {
  let db: Db | undefined;
  try {
    db = await openDb(config, "stratavore-daemon");
    const result = await migrate(db);
    if (result.applied.length) {
      log.info("database migrated", { applied: result.applied, version: result.current });
    }
    return db;
  } catch (e) {
    await db?.close().catch(() => {});
    if (e instanceof AppError) throw e;
    const where = config.databaseUrl
      ? "PostgreSQL (DATABASE_URL)"
      : `the embedded database in ${config.home}`;
    throw new AppError("failed", `cannot open ${where}: ${(e as Error).message}`);
  }
}

/** Looser modes in the home (an older version, a copy, a restore) are tightened and reported, as ssh does. */
async function tightenHome(home: string): Promise<void> {
  // PGlite's own 0666 files behind private folders are tightened quietly (lib/private_files.ts); a folder
  // or any other file that was open to others is worth a warning.
  const data = dataDir(home) + "/";
  const fixed = (await tightenTree(home)).filter((f) => f.dir || !f.path.startsWith(data));
  if (fixed.length === 0) return;
  log.warn(
    `${fixed.length} file(s) in ${home} were readable or writable by other users; they are now private to you (folders 0700, files 0600)`,
    { examples: fixed.slice(0, 5).map((f) => `${f.was} ${f.path}`) },
  );
}
