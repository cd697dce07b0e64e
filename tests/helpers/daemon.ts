/** A real daemon subprocess on loopback port 0 in a temp home, for API, CLI and agent tests. */
import { readDaemonInfo } from "../../lib/home.ts";
import { TIMEOUT_SCALE } from "./assert.ts";
import { stratavoreCommand } from "./cli.ts";
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
}

export interface DaemonHandle {
  url: string;
  token: string;
  home: string;
  pid: number;
  process: Deno.ChildProcess;
  logs(): string[];
  /** Sends a signal (default SIGTERM) and waits for the exit code. */
  stop(signal?: Deno.Signal): Promise<number>;
  exited: Promise<Deno.CommandStatus>;
  waitForLog(re: RegExp, timeoutMs?: number): Promise<string>;
}

/**
 * A test daemon lives seconds, and compiling PGlite's WebAssembly with V8's optimising tier costs more CPU
 * than it ever wins back: twice the CPU of the baseline compiler alone (1.9 s against 0.95 s per PGlite
 * daemon start on this machine, PostgreSQL daemons unchanged). Same code, same semantics; only the tier.
 */
const TEST_V8_FLAGS = ["--v8-flags=--liftoff-only"];

export async function startDaemon(opts: DaemonOptions = {}): Promise<DaemonHandle> {
  if (FAST_TIER) {
    throw new Error("a daemon subprocess in the fast tier: register this test with `ignore: FAST_TIER`");
  }
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
  const env: Record<string, string> = {
    STRATAVORE_HOME: home,
    STRATAVORE_LISTEN: "127.0.0.1:0",
    STRATAVORE_METRICS_LISTEN: "127.0.0.1:0",
    STRATAVORE_LOG_FORMAT: "json",
    STRATAVORE_LOG_LEVEL: "debug",
    ...(opts.databaseUrl ? { DATABASE_URL: opts.databaseUrl } : {}),
    ...opts.env,
  };
  const denoFlags = [...(opts.denoFlags ?? ["--allow-all"]), ...TEST_V8_FLAGS];
  const child = stratavoreCommand(["daemon", ...(opts.args ?? [])], { env, denoFlags })
    .spawn();
  const lines: string[] = [];
  const watchers: { re: RegExp; resolve: (l: string) => void }[] = [];
  const pump = async (stream: ReadableStream<Uint8Array>) => {
    let buf = "";
    for await (const chunk of stream.pipeThrough(new TextDecoderStream())) {
      buf += chunk;
      let i;
      while ((i = buf.indexOf("\n")) >= 0) {
        const line = buf.slice(0, i);
        buf = buf.slice(i + 1);
        lines.push(line);
        for (const w of [...watchers]) {
          if (w.re.test(line)) {
            watchers.splice(watchers.indexOf(w), 1);
            w.resolve(line);
          }
        }
      }
    }
    if (buf) lines.push(buf);
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
    waitForLog(re: RegExp, timeoutMs = 10_000) {
      timeoutMs *= TIMEOUT_SCALE;
      const hit = lines.find((l) => re.test(l));
      if (hit) return Promise.resolve(hit);
      return new Promise((resolve, reject) => {
        const w = { re, resolve };
        watchers.push(w);
        setTimeout(() => {
          const i = watchers.indexOf(w);
          if (i >= 0) {
            watchers.splice(i, 1);
            reject(
              new Error(`no log line matching ${re} in ${timeoutMs} ms:\n${lines.slice(-30).join("\n")}`),
            );
          }
        }, timeoutMs);
      });
    },
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

export interface DaemonTest {
  daemon: DaemonHandle;
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
  restart(extra?: Partial<DaemonOptions>): Promise<DaemonHandle>;
}

export interface EachDaemonOptions extends Omit<DaemonOptions, "databaseUrl" | "home"> {
  ignore?: boolean;
  /** Register the test for one backend only (e.g. when it reads PostgreSQL directly). */
  only?: BackendName;
  /** Keep one API port across restarts (agents keep the URL they were given). */
  fixedPort?: boolean;
  /** The test uses RabbitMQ: it shares the broker with other such tests, never with the fault tests. */
  broker?: boolean;
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
export function freePort(): number {
  const l = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (l.addr as Deno.NetAddr).port;
  l.close();
  return port;
}

/** Registers `name [pglite]` and `name [postgres]`, each against a real daemon subprocess. */
export function eachDaemon(
  name: string,
  fn: (t: DaemonTest) => Promise<void>,
  opts: EachDaemonOptions = {},
): void {
  for (const backend of ["pglite", "postgres"] as const) {
    if (opts.only && opts.only !== backend) continue;
    Deno.test({
      name: `${name} [${backend}]`,
      ignore: opts.ignore || FAST_TIER || (backend === "postgres" && SKIP_PG),
      sanitizeOps: false,
      sanitizeResources: false,
      fn: () =>
        opts.broker
          ? withBrokerLock("shared", () => runDaemonTest(backend, fn, opts))
          : runDaemonTest(backend, fn, opts),
    });
  }
}

async function runDaemonTest(
  backend: BackendName,
  fn: (t: DaemonTest) => Promise<void>,
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
  const handles: DaemonHandle[] = [];
  const start = async (extra: Partial<DaemonOptions> = {}) => {
    const d = await startDaemon({
      ...opts,
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
    for (const d of handles) await d.stop("SIGKILL").catch(() => {});
    await killLeftovers(home);
    await pg?.drop().catch(() => {});
    await removeDir(home);
  }
}
