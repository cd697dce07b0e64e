/**
 * A real daemon on loopback port 0 in a temp home, for API, CLI and agent tests: a subprocess (startDaemon)
 * where the process boundary is the point, else in the test process (startInProcessDaemon).
 */
import { Arrivals } from "./arrivals.ts";
import { readDaemonInfo } from "../../lib/daemon_info.ts";
import { isAppError } from "../../lib/errors.ts";
import { loadConfig } from "../../lib/config.ts";
import { log as processLog, stderrSink } from "../../lib/log.ts";
import type { Services } from "../../daemon/services.ts";
import { TIMEOUT_SCALE } from "./assert.ts";
import { baseEnv, stratavoreCommand } from "./cli.ts";
import { freshPgliteDir } from "./db.ts";
import { copyDir, removeDir, tempDir } from "./fs.ts";

export interface DaemonOptions {
  home?: string;
  /** PostgreSQL URL; without it the daemon uses PGlite in its home (seeded from the test template). */
  databaseUrl?: string;
  env?: Record<string, string>;
  args?: string[];
  denoFlags?: string[];
  /** Keep the home after stop() (for restart tests). */
  keepHome?: boolean;
  /** false: no PGlite copied in from the test template (the daemon creates its database itself). */
  seed?: boolean;
  /**
   * Only `denoFlags`, without the tests' V8 flags (--liftoff-only): a benchmark of what users run
   * (bench/footprint.ts: the optimising tier's code for PGlite is part of a user's daemon at rest).
   */
  userFlags?: boolean;
}

/** What every test daemon offers, in a subprocess or in the test process. */
export interface TestDaemon {
  url: string;
  token: string;
  home: string;
  logs(): string[];
  /**
   * A subprocess gets the signal (default SIGTERM) and the exit code comes back; an in-process daemon shuts
   * down in the same order and 0 comes back (it cannot be killed: SIGKILL throws).
   */
  stop(signal?: Deno.Signal): Promise<number>;
  waitForLog(re: RegExp, timeoutMs?: number): Promise<string>;
}

export interface DaemonHandle extends TestDaemon {
  pid: number;
  process: Deno.ChildProcess;
  exited: Promise<Deno.CommandStatus>;
}

/** A daemon in the test process (daemon/main.ts's startDaemon): its services are at hand. */
export interface InProcessDaemon extends TestDaemon {
  services: Services;
  /**
   * Ends it as a finished test does (a subprocess gets SIGKILL): the shutdown in order, but with no wait
   * for requests in flight or deliveries (what was not sent stays in the outbox).
   */
  abandon(): Promise<void>;
}

/** A daemon's log lines as they come, and waits for a line to appear. */
class LogLines {
  readonly #arrivals = new Arrivals<string>();
  readonly lines = this.#arrivals.items;

  push(line: string): void {
    this.#arrivals.push(line);
  }

  waitFor(re: RegExp, timeoutMs = 10_000): Promise<string> {
    timeoutMs *= TIMEOUT_SCALE;
    return this.#arrivals.waitFor(
      (l) => re.test(l),
      timeoutMs,
      () => new Error(`no log line matching ${re} in ${timeoutMs} ms:\n${this.lines.slice(-30).join("\n")}`),
    );
  }
}

/**
 * A test daemon lives seconds, and compiling PGlite's WebAssembly with V8's optimising tier costs more CPU
 * than it ever wins back: twice the CPU of the baseline compiler alone (1.9 s against 0.95 s per PGlite
 * daemon start on this machine, PostgreSQL daemons unchanged). Same code, same semantics; only the tier,
 * which is also the one users get now (lib/self.ts V8_FLAGS).
 */
const TEST_V8_FLAGS = ["--v8-flags=--liftoff-only"];

/** A temp home (unless given) holding a PGlite copied from the migrated template (unless PostgreSQL). */
async function preparedHome(opts: DaemonOptions): Promise<string> {
  const home = opts.home ?? await tempDir("stratavore-home-");
  if (!opts.databaseUrl && opts.seed !== false) {
    try {
      await Deno.stat(`${home}/data/PG_VERSION`);
    } catch {
      const seeded = await freshPgliteDir();
      await copyDir(seeded, `${home}/data`);
      await removeDir(seeded);
    }
  }
  return home;
}

/** The daemon's environment: loopback port 0, JSON debug logs, the test's settings. */
function daemonEnv(home: string, opts: DaemonOptions): Record<string, string> {
  return {
    STRATAVORE_HOME: home,
    STRATAVORE_LISTEN: "127.0.0.1:0",
    STRATAVORE_METRICS_LISTEN: "127.0.0.1:0",
    STRATAVORE_LOG_FORMAT: "json",
    STRATAVORE_LOG_LEVEL: "debug",
    ...(opts.databaseUrl ? { DATABASE_URL: opts.databaseUrl } : {}),
    ...opts.env,
  };
}

export async function startDaemon(opts: DaemonOptions = {}): Promise<DaemonHandle> {
  if (FAST_TIER) {
    throw new Error("a daemon subprocess in the fast tier: register this test with `ignore: FAST_TIER`");
  }
  const home = await preparedHome(opts);
  const env = daemonEnv(home, opts);
  const denoFlags = [...(opts.denoFlags ?? ["--allow-all"]), ...(opts.userFlags ? [] : TEST_V8_FLAGS)];
  const child = stratavoreCommand(["daemon", ...(opts.args ?? [])], { env, denoFlags })
    .spawn();
  const log = new LogLines();
  const lines = log.lines;
  const pump = async (stream: ReadableStream<Uint8Array>) => {
    let buf = "";
    for await (const chunk of stream.pipeThrough(new TextDecoderStream())) {
      buf += chunk;
      let i;
      while ((i = buf.indexOf("\n")) >= 0) {
        log.push(buf.slice(0, i));
        buf = buf.slice(i + 1);
      }
    }
    if (buf) log.push(buf);
  };
  const pumps = Promise.all([pump(child.stdout), pump(child.stderr)]);
  const exited = child.status.then(async (s) => {
    await pumps;
    return s;
  });
  let done = false;
  exited.then(() => (done = true));

  const deadline = Date.now() + 60_000;
  let info = readDaemonInfo(home);
  while (!info || info.pid !== child.pid) {
    if (done) throw new Error(`daemon exited during start:\n${lines.join("\n")}`);
    if (Date.now() > deadline) {
      child.kill("SIGKILL");
      throw new Error(`daemon did not start in 60 s:\n${lines.join("\n")}`);
    }
    await new Promise((r) => setTimeout(r, 50));
    info = readDaemonInfo(home);
  }
  const token = Deno.readTextFileSync(`${home}/api-token`).trim();
  return {
    url: info.url,
    token,
    home,
    pid: child.pid,
    process: child,
    logs: () => lines,
    exited,
    async stop(signal: Deno.Signal = "SIGTERM") {
      if (!done) {
        try {
          child.kill(signal);
        } catch { /* gone */ }
      }
      const s = await exited;
      if (!opts.keepHome && !opts.home) await removeDir(home);
      return s.code;
    },
    waitForLog: (re, timeoutMs) => log.waitFor(re, timeoutMs),
  };
}

/**
 * An in-process restart can find the home's lock still held for a moment after the previous daemon closed
 * it: parallel test files are workers of this one process, and a process another file spawns at that instant
 * holds a copy of every open descriptor until it execs (seen once in a loaded full run). A real second
 * daemon is refused at once; here the start is retried for up to 3 s.
 */
async function startAfterLock<T>(start: () => Promise<T>): Promise<T> {
  const until = Date.now() + 3000;
  for (;;) {
    try {
      return await start();
    } catch (e) {
      if (!isAppError(e) || e.code !== "already_running" || Date.now() > until) throw e;
      await new Promise((r) => setTimeout(r, 100));
    }
  }
}

/**
 * The same daemon (daemon/main.ts's startDaemon, same order of start and shutdown) in this process: no deno
 * start, no module graph, and PGlite's WebAssembly compiled once per test process (PGlite keeps the compiled
 * module), so a start costs a fraction of a subprocess's. The environment a subprocess would get is its
 * config and the environment its sessions inherit; its log lines go to this daemon's handle (the process's
 * logger is one, so one in-process daemon runs at a time: tests in a file run one after another).
 */
export async function startInProcessDaemon(opts: DaemonOptions = {}): Promise<InProcessDaemon> {
  if (opts.args?.length || opts.denoFlags) {
    throw new Error("an in-process daemon takes its settings from `env`, not from command-line flags");
  }
  const home = await preparedHome(opts);
  const env = baseEnv(daemonEnv(home, opts));
  const { config } = loadConfig({ env });
  const log = new LogLines();
  const sink = { write: (line: string) => log.push(line), isTerminal: () => false };
  processLog.configure({ level: config.logLevel, format: config.logFormat, sink });
  const { startDaemon } = await import("../../daemon/main.ts");
  let daemon;
  try {
    daemon = await startAfterLock(() => startDaemon(config, { env }));
  } catch (e) {
    processLog.configure({ level: "info", format: "auto", sink: stderrSink });
    throw new Error(`daemon did not start: ${(e as Error).message}\n${log.lines.join("\n")}`);
  }
  let stopped: Promise<number> | undefined;
  const stopWith = (signal: Deno.Signal, graceMs?: number) =>
    stopped ??= (async () => {
      // runDaemon's watchdog, without the exit: a shutdown past the limit is exit code 1 here too.
      let timer: ReturnType<typeof setTimeout> | undefined;
      const late = new Promise<number>((resolve) => {
        timer = setTimeout(() => {
          processLog.error("shutdown took too long", { limitMs: config.shutdownTimeout });
          resolve(1);
        }, config.shutdownTimeout);
      });
      let code: number;
      try {
        code = await Promise.race([daemon.stop(signal, { graceMs }).then(() => 0), late]);
      } finally {
        clearTimeout(timer);
        processLog.configure({ level: "info", format: "auto", sink: stderrSink });
      }
      if (!opts.keepHome && !opts.home) await removeDir(home);
      return code;
    })();
  return {
    url: daemon.url,
    token: daemon.services.adminToken,
    home,
    services: daemon.services,
    logs: () => log.lines,
    stop(signal: Deno.Signal = "SIGTERM") {
      if (signal === "SIGKILL") {
        return Promise.reject(
          new Error("an in-process daemon cannot be killed: use a subprocess daemon (eachDaemon)"),
        );
      }
      return stopWith(signal);
    },
    async abandon() {
      await stopWith("SIGKILL", 0);
    },
    waitForLog: (re, timeoutMs) => log.waitFor(re, timeoutMs),
  };
}

import { StratavoreClient } from "../../lib/client.ts";
import { type BackendName, freshPostgres } from "./db.ts";
import { FAST_TIER, REPO, SKIP_PG } from "./env.ts";
import { withBrokerLock } from "./lock.ts";

/** The fake claude first on PATH, and a private CLAUDE_CONFIG_DIR and STRATAVORE_HOME. */
export function fixtureEnv(home: string, claudeDir: string): Record<string, string> {
  const sep = Deno.build.os === "windows" ? ";" : ":";
  return {
    STRATAVORE_HOME: home,
    CLAUDE_CONFIG_DIR: claudeDir,
    PATH: `${REPO}/tests/fixtures/bin${sep}${Deno.env.get("PATH") ?? ""}`,
    // Sessions get an allowlisted environment (lib/session_env.ts): the fake claude's plan and deno's
    // settings are added, as a user adds theirs.
    STRATAVORE_SESSION_ENV: "FAKE_*,DENO_*",
  };
}

export interface DaemonTest<D extends TestDaemon = TestDaemon> {
  daemon: D;
  /** CLAUDE_CONFIG_DIR of this test (the daemon's and the agents'): fake transcripts land here. */
  claudeDir: string;
  /** Environment for CLI and agent subprocesses: this daemon's home, the fake claude first on PATH. */
  env: Record<string, string>;
  /**
   * The fake claude's plan for runs the daemon starts itself (detached launches): FAKE_CLAUDE_PLAN of the
   * daemon points at this file, which starts as "{}" (the fake's defaults).
   */
  planFile: string;
  client: StratavoreClient;
  backend: BackendName;
  /** PostgreSQL URL (postgres backend), for direct checks and second daemons. */
  databaseUrl?: string;
  /** Starts another daemon on the same storage (after stop(), for restart tests). */
  restart(extra?: Partial<DaemonOptions>): Promise<D>;
}

export interface EachDaemonOptions extends Omit<DaemonOptions, "databaseUrl" | "home"> {
  ignore?: boolean;
  /** Register the test for one backend only (e.g. when it reads PostgreSQL directly). */
  only?: BackendName;
  /** Keep one API port across restarts (agents keep the URL they were given). */
  fixedPort?: boolean;
  /** The test uses RabbitMQ: it shares the broker with other such tests, never with the fault tests. */
  broker?: boolean;
  /**
   * The daemon runs in the test process (startInProcessDaemon): for tests of what the daemon answers, where
   * the process boundary is not the point. Such a test runs with Deno.Command throwing, so it provably
   * starts no process, and it is in the fast tier (on one backend).
   */
  inProcess?: boolean;
  /**
   * With inProcess: the test runs CLI commands or agents (subprocesses) against the in-process daemon, or the
   * daemon starts agents for detached launches. It may start processes, and is not in the fast tier.
   */
  subprocesses?: boolean;
}

/**
 * Runs `fn` with Deno.Command (how this code starts every process: sessions, agents, git, initdb) throwing,
 * so a test that says it starts no process provably starts none. (Deno.test's `permissions` cannot do it:
 * without --allow-all Deno refuses the test files in /dev/shm.)
 */
export async function withoutSubprocesses<T>(fn: () => Promise<T>): Promise<T> {
  const real = Object.getOwnPropertyDescriptor(Deno, "Command")!;
  Object.defineProperty(Deno, "Command", {
    configurable: true,
    value: class {
      constructor(cmd: string | URL) {
        throw new Error(`${cmd}: this test starts no process (eachDaemon's \`subprocesses\` allows them)`);
      }
    },
  });
  try {
    return await fn();
  } finally {
    Object.defineProperty(Deno, "Command", real);
  }
}

/**
 * Detached agents (and their fake claude) outlive a killed daemon by design: a daemon restart must never
 * end a session. A finished test ends them itself; every such process names the test's home folder.
 */
async function killLeftovers(home: string): Promise<void> {
  if (Deno.build.os === "windows") return;
  await new Deno.Command("pkill", { args: ["-KILL", "-f", home], stdout: "null", stderr: "null" }).output()
    .catch(() => {});
}

/** A loopback port that was free a moment ago. */
/**
 * A port free now, below the kernel's ephemeral range. A test that gives its port up for a while (a daemon
 * killed and restarted at the same address) must not see another test's `listen` on port 0 take it
 * meanwhile: its agents would then reach a foreign daemon, which refuses their tokens.
 */
export function freePort(): number {
  const low = Math.max(EPHEMERAL_LOW, FIXED_PORTS_FROM + 1000);
  for (let i = 0; i < 500; i++) {
    const port = FIXED_PORTS_FROM + Math.floor(Math.random() * (low - FIXED_PORTS_FROM));
    try {
      Deno.listen({ hostname: "127.0.0.1", port }).close();
      return port;
    } catch { /* taken: another */ }
  }
  throw new Error(`no free port between ${FIXED_PORTS_FROM} and ${low}`);
}

const FIXED_PORTS_FROM = 20_000;
/** The first ephemeral port (Linux's range from /proc; 49152 on macOS and Windows). */
const EPHEMERAL_LOW = (() => {
  try {
    return Number(Deno.readTextFileSync("/proc/sys/net/ipv4/ip_local_port_range").trim().split(/\s+/)[0]) ||
      32_768;
  } catch {
    return 49_152;
  }
})();

/**
 * Registers `name [pglite]` and `name [postgres]`, each against a real daemon: a subprocess, or with
 * `inProcess` the same daemon in the test process.
 */
export function eachDaemon(
  name: string,
  fn: (t: DaemonTest<InProcessDaemon>) => Promise<void>,
  opts: EachDaemonOptions & { inProcess: true },
): void;
export function eachDaemon(
  name: string,
  fn: (t: DaemonTest<DaemonHandle>) => Promise<void>,
  opts?: EachDaemonOptions & { inProcess?: false },
): void;
export function eachDaemon(
  name: string,
  // deno-lint-ignore no-explicit-any
  fn: (t: DaemonTest<any>) => Promise<void>,
  opts: EachDaemonOptions = {},
): void {
  const spawnsNothing = opts.inProcess === true && !opts.subprocesses;
  // The fast tier runs such a test on one backend (the full suite on both): PostgreSQL when it answers, as
  // its daemon starts on a tenth of PGlite's CPU; the storage tests cover both backends in it anyway.
  const fastBackend = opts.only ?? (SKIP_PG ? "pglite" : "postgres");
  for (const backend of ["pglite", "postgres"] as const) {
    if (opts.only && opts.only !== backend) continue;
    Deno.test({
      name: `${name} [${backend}]`,
      ignore: opts.ignore || (FAST_TIER && (!spawnsNothing || backend !== fastBackend)) ||
        (backend === "postgres" && SKIP_PG),
      sanitizeOps: false,
      sanitizeResources: false,
      fn: () => {
        const run = () => runDaemonTest(backend, fn, opts);
        const guarded = spawnsNothing ? () => withoutSubprocesses(run) : run;
        return opts.broker ? withBrokerLock("shared", guarded) : guarded();
      },
    });
  }
}

async function runDaemonTest(
  backend: BackendName,
  // deno-lint-ignore no-explicit-any
  fn: (t: DaemonTest<any>) => Promise<void>,
  opts: EachDaemonOptions,
): Promise<void> {
  const pg = backend === "postgres" ? await freshPostgres() : undefined;
  const home = await tempDir("stratavore-home-");
  const claudeDir = `${home}/claude`;
  await Deno.mkdir(claudeDir, { recursive: true });
  const planFile = `${home}/fake-plan.json`;
  await Deno.writeTextFile(planFile, "{}");
  const env = {
    ...fixtureEnv(home, claudeDir),
    FAKE_CLAUDE_PLAN: `@${planFile}`,
    ...(opts.fixedPort ? { STRATAVORE_LISTEN: `127.0.0.1:${freePort()}` } : {}),
  };
  const { inProcess, subprocesses: _, ...daemonOpts } = opts;
  const handles: TestDaemon[] = [];
  const start = async (extra: Partial<DaemonOptions> = {}) => {
    const d = await (inProcess ? startInProcessDaemon : startDaemon)({
      ...daemonOpts,
      ...extra,
      env: { ...env, ...opts.env, ...extra.env },
      home,
      databaseUrl: pg?.url,
      keepHome: true,
    });
    handles.push(d);
    return d;
  };
  try {
    const daemon = await start();
    const client = new StratavoreClient({ url: daemon.url, token: daemon.token });
    await fn({
      daemon,
      client,
      backend,
      databaseUrl: pg?.url,
      restart: start,
      claudeDir,
      env,
      planFile,
    });
  } catch (e) {
    // The daemon's own account of a failure (a 500 says "the daemon log has the details").
    const errors = handles.flatMap((d) => d.logs()).filter((l) =>
      /"level":"(error|warn)"|ERROR|WARN/.test(l)
    );
    if (errors.length) console.error(`daemon warnings and errors:\n${errors.slice(-20).join("\n")}`);
    throw e;
  } finally {
    for (const d of handles) {
      await (inProcess ? (d as InProcessDaemon).abandon() : d.stop("SIGKILL")).catch(() => {});
    }
    if (!inProcess || opts.subprocesses) await killLeftovers(home);
    await pg?.drop().catch(() => {});
    await removeDir(home);
  }
}
