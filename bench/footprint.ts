/**
 * Footprint at rest, measured side by side in one run: the daemon's RSS and CPU while one real agent (around a
 * long-running fake claude) heartbeats at the default interval, on PGlite (a first start, which runs initdb
 * in the daemon, and a restart on existing data) and on PostgreSQL; the agent's RSS beside its session; pm2's
 * daemon holding 5 processes and a bare `deno` process as the references. Then `stratavore runners --json`
 * against `pm2 jlist` with 5 entries each, run alternately; then a detached runner's agent (as the daemon
 * starts it, with lib/self.ts's agent flags) beside the `stratavore agent` one and the floor.
 *   deno run -A bench/footprint.ts [--seconds 60] [--runs 15]
 * pm2 comes from npm at a pinned version, installed once under $TMPDIR/stratavore-bench-cache.
 */
import { StratavoreClient } from "../lib/client.ts";
import { DAEMON_V8_FLAGS, V8_FLAGS } from "../lib/self.ts";
import { baseEnv } from "../tests/helpers/cli.ts";
import { type DaemonHandle, fixtureEnv, startDaemon } from "../tests/helpers/daemon.ts";
import { freshPostgres } from "../tests/helpers/db.ts";
import { MAIN, PG_AVAILABLE, REPO } from "../tests/helpers/env.ts";
import { mb, memoryOf, preciseCpuSecondsOf, rssOf, summarize, table } from "./lib.ts";

const args = Deno.args.join(" ");
const SECONDS = Number(/--seconds[ =](\d+)/.exec(args)?.[1] ?? 60);
const RUNS = Number(/--runs[ =](\d+)/.exec(args)?.[1] ?? 15);
const WARMUP_S = 20;
/** How long the detached agent heartbeats before its RSS is read (it starts after the daemons' window). */
const DETACHED_S = 30;
const PM2_VERSION = "7.0.4";
const DENO_FLAGS = ["--allow-all", `--v8-flags=${V8_FLAGS.join(",")}`];
/** A daemon runs with its own flags on top (lib/self.ts; the service definitions and `deno task start`). */
const DAEMON_DENO_FLAGS = ["--allow-all", `--v8-flags=${[...V8_FLAGS, ...DAEMON_V8_FLAGS].join(",")}`];

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const dec = new TextDecoder();

/** pm2 from npm (pinned), installed once per machine into the bench cache; undefined without node/npm. */
async function pm2Bin(): Promise<string | undefined> {
  const dir = `${Deno.env.get("TMPDIR") ?? "/tmp"}/stratavore-bench-cache/pm2-${PM2_VERSION}`;
  const bin = `${dir}/node_modules/pm2/bin/pm2`;
  try {
    await Deno.stat(bin);
    return bin;
  } catch { /* install it */ }
  await Deno.mkdir(dir, { recursive: true });
  try {
    const out = await new Deno.Command("npm", {
      args: ["install", "--prefix", dir, "--no-audit", "--no-fund", "--silent", `pm2@${PM2_VERSION}`],
      stdout: "null",
      stderr: "piped",
    }).output();
    if (!out.success) {
      console.error(`  npm install pm2@${PM2_VERSION} failed: ${dec.decode(out.stderr).slice(0, 500)}`);
      return undefined;
    }
    return bin;
  } catch (e) {
    console.error(`  pm2 unavailable: ${(e as Error).message}`);
    return undefined;
  }
}

interface Pm2 {
  pid: number;
  run(...a: string[]): Promise<string>;
  argv(...a: string[]): string[];
  env: Record<string, string>;
  stop(): Promise<void>;
}

async function startPm2(bin: string, entries: number): Promise<Pm2> {
  const home = await Deno.makeTempDir({ prefix: "stratavore-bench-pm2-" });
  const env = baseEnv({ PM2_HOME: home });
  const argv = (...a: string[]) => ["node", bin, ...a];
  const run = async (...a: string[]) => {
    const out = await new Deno.Command("node", {
      args: [bin, ...a],
      env,
      clearEnv: true,
      stdout: "piped",
      stderr: "piped",
    })
      .output();
    if (!out.success) throw new Error(`pm2 ${a.join(" ")}: ${dec.decode(out.stderr)}`);
    return dec.decode(out.stdout);
  };
  const apps = Array.from({ length: entries }, (_, i) => ({
    name: `sleep-${i}`,
    script: "sleep",
    args: "3600",
    interpreter: "none",
    autorestart: false,
  }));
  await Deno.writeTextFile(`${home}/ecosystem.config.js`, `module.exports = ${JSON.stringify({ apps })};\n`);
  await run("start", `${home}/ecosystem.config.js`);
  const pid = Number((await Deno.readTextFile(`${home}/pm2.pid`)).trim());
  return {
    pid,
    run,
    argv,
    env,
    async stop() {
      await run("kill").catch(() => {});
      await Deno.remove(home, { recursive: true }).catch(() => {});
    },
  };
}

interface Subject {
  label: string;
  daemon?: DaemonHandle;
  agent?: Deno.ChildProcess;
  client?: StratavoreClient;
  env?: Record<string, string>;
  home?: string;
  drop?: () => Promise<void>;
}

/** A daemon and one real agent around a fake claude that sleeps through the whole run. */
async function subject(
  label: string,
  opts: { databaseUrl?: string; firstStart?: boolean },
): Promise<Subject> {
  const home = await Deno.makeTempDir({ prefix: "stratavore-bench-footprint-" });
  const claudeDir = `${home}/claude`;
  const work = `${home}/work`;
  await Deno.mkdir(claudeDir, { recursive: true });
  await Deno.mkdir(work, { recursive: true });
  const env = fixtureEnv(home, claudeDir);
  const plan = JSON.stringify({
    turns: [{}],
    hooks: [],
    sleepMs: (WARMUP_S + SECONDS + DETACHED_S + 600) * 1000,
  });
  const daemon = await startDaemon({
    home,
    databaseUrl: opts.databaseUrl,
    seed: !opts.firstStart,
    denoFlags: DAEMON_DENO_FLAGS,
    userFlags: true,
    // The plan reaches the sessions of detached runners too (the agents the daemon starts itself).
    env: { ...env, STRATAVORE_LOG_LEVEL: "warn", FAKE_CLAUDE_PLAN: plan },
  });
  const client = new StratavoreClient({ url: daemon.url, token: daemon.token });
  await client.createProject({ name: "bench", path: work });
  const agent = new Deno.Command(Deno.execPath(), {
    args: ["run", ...DENO_FLAGS, "--quiet", MAIN, "agent", "--", "claude"],
    cwd: work,
    env: baseEnv({ ...env, FAKE_CLAUDE_PLAN: plan }),
    clearEnv: true,
    stdin: "null",
    stdout: "null",
    stderr: "null",
  }).spawn();
  return { label, daemon, agent, client, env, home };
}

async function watch(pids: number[], seconds: number) {
  const cpu0 = pids.map((p) => preciseCpuSecondsOf(p) ?? 0);
  const peak = pids.map(() => 0);
  const end = Date.now() + seconds * 1000;
  while (Date.now() < end) {
    pids.forEach((p, i) => (peak[i] = Math.max(peak[i], rssOf(p) ?? 0)));
    await sleep(1000);
  }
  return pids.map((p, i) => ({
    rss: rssOf(p) ?? 0,
    peak: peak[i],
    cpuPercent: ((preciseCpuSecondsOf(p) ?? 0) - cpu0[i]) / seconds * 100,
  }));
}

/** CPU milliseconds used by this process's finished children (user + system, Linux /proc). */
function childCpuMs(): number {
  const f = Deno.readTextFileSync("/proc/self/stat").split(") ")[1].split(" ");
  return (Number(f[13]) + Number(f[14])) * 10;
}

/** Runs two commands alternately `runs` times each (after one warm-up each); wall-clock medians. */
async function alternate(a: { argv: string[]; env: Record<string, string> }, b: typeof a, runs: number) {
  const time = async (c: typeof a) => {
    const cpu0 = childCpuMs();
    const t = performance.now();
    const out = await new Deno.Command(c.argv[0], {
      args: c.argv.slice(1),
      env: c.env,
      clearEnv: true,
      cwd: REPO,
      stdout: "piped",
      stderr: "null",
    }).output();
    if (!out.success) throw new Error(`${c.argv.join(" ")} failed`);
    return { ms: performance.now() - t, cpu: childCpuMs() - cpu0, out: dec.decode(out.stdout) };
  };
  const first = [await time(a), await time(b)];
  const ta: number[] = [];
  const tb: number[] = [];
  const ca: number[] = [];
  const cb: number[] = [];
  for (let i = 0; i < runs; i++) {
    const ra = await time(a);
    const rb = await time(b);
    ta.push(ra.ms);
    tb.push(rb.ms);
    ca.push(ra.cpu);
    cb.push(rb.cpu);
  }
  return {
    a: { ...summarize(ta), cpu: summarize(ca).p50 },
    b: { ...summarize(tb), cpu: summarize(cb).p50 },
    outputs: first.map((f) => f.out),
  };
}

export async function benchFootprint(): Promise<string> {
  const subjects: Subject[] = [];
  let pm2: Pm2 | undefined;
  let floor: Deno.ChildProcess | undefined;
  let floorDir: string | undefined;
  try {
    subjects.push(await subject("daemon, PGlite (first start, initdb included)", { firstStart: true }));
    subjects.push(await subject("daemon, PGlite (restart on existing data)", {}));
    if (PG_AVAILABLE) {
      const pg = await freshPostgres();
      const s = await subject("daemon, PostgreSQL", { databaseUrl: pg.url });
      s.drop = pg.drop;
      subjects.push(s);
    } else console.error("  PostgreSQL does not answer: its row is skipped");
    const bin = await pm2Bin();
    if (bin) pm2 = await startPm2(bin, 5);
    // A file run as every stratavore process is (`deno eval` of the same line measured 41.7 MB, a file 34:
    // eval loads more of Deno than a plain run does).
    floorDir = await Deno.makeTempDir({ prefix: "stratavore-bench-floor-" });
    await Deno.writeTextFile(`${floorDir}/floor.ts`, "setInterval(() => {}, 10_000);\n");
    floor = new Deno.Command(Deno.execPath(), {
      args: ["run", ...DENO_FLAGS, "--quiet", `${floorDir}/floor.ts`],
      stdout: "null",
      stderr: "null",
    }).spawn();

    await sleep(WARMUP_S * 1000); // start-up (module loading, the agent's first heartbeat) is not rest
    const rows: { label: string; pid: number }[] = [];
    for (const s of subjects) rows.push({ label: s.label, pid: s.daemon!.pid });
    for (const s of subjects.slice(1, 2)) {
      rows.push({ label: "agent beside a session (PGlite daemon)", pid: s.agent!.pid });
    }
    if (pm2) rows.push({ label: `pm2 ${PM2_VERSION} daemon (5 processes)`, pid: pm2.pid });
    rows.push({ label: "bare deno process (floor)", pid: floor.pid });
    const measured = await watch(rows.map((r) => r.pid), SECONDS);

    const beats = await Promise.all(
      subjects.map(async (s) => (await s.client!.listRunners({ project: "bench" }))[0]?.heartbeatCount ?? 0),
    );
    const lines = [
      `footprint at rest (${SECONDS} s after a ${WARMUP_S} s warm-up; one agent heartbeating every 10 s per daemon; ` +
      `${navigator.hardwareConcurrency} cores)`,
      table(
        ["process", "RSS", "peak RSS", "CPU (% of a core)"],
        rows.map((
          r,
          i,
        ) => [r.label, mb(measured[i].rss), mb(measured[i].peak), measured[i].cpuPercent.toFixed(2)]),
      ),
      `heartbeats received per daemon: ${beats.join(", ")}`,
    ];

    // runners --json against pm2 jlist, 5 entries each: 4 more runners beside the live one.
    const main = subjects[1];
    for (let i = 0; i < 4; i++) {
      const { runner, token } = await main.client!.launch({ project: "bench", labels: { n: String(i) } });
      const agent = main.client!.withToken(token);
      await agent.started(runner.id, { pid: 20_000 + i, host: "bench-host", sessionId: crypto.randomUUID() });
      await agent.heartbeat(runner.id, {
        cpuPercent: 1,
        rssBytes: 50e6,
        tokens: { input: 10, output: 20, cacheCreation: 30, cacheRead: 40 },
      });
    }
    if (pm2) {
      const ours = {
        argv: [Deno.execPath(), "run", ...DENO_FLAGS, "--quiet", MAIN, "runners", "--json"],
        env: baseEnv({ STRATAVORE_HOME: main.home! }),
      };
      const theirs = { argv: pm2.argv("jlist"), env: pm2.env };
      const r = await alternate(ours, theirs, RUNS);
      const listed = JSON.parse(r.outputs[0]).runners.length;
      const pm2Listed = JSON.parse(r.outputs[1]).length;
      if (listed !== 5 || pm2Listed !== 5) {
        throw new Error(`listed ${listed} runners and ${pm2Listed} pm2 processes`);
      }
      lines.push(
        `list with 5 entries (${RUNS} alternate runs each, whole processes):`,
        table(["command", "median", "p99", "max", "CPU (median)"], [
          [
            "stratavore runners --json",
            `${r.a.p50.toFixed(1)} ms`,
            `${r.a.p99.toFixed(1)} ms`,
            `${r.a.max.toFixed(1)} ms`,
            `${r.a.cpu} ms`,
          ],
          [
            `pm2 jlist`,
            `${r.b.p50.toFixed(1)} ms`,
            `${r.b.p99.toFixed(1)} ms`,
            `${r.b.max.toFixed(1)} ms`,
            `${r.b.cpu} ms`,
          ],
        ]),
        `runners --json / pm2 jlist (medians): ${(r.a.p50 / r.b.p50).toFixed(2)}x wall, ${
          (r.a.cpu / r.b.cpu).toFixed(2)
        }x CPU`,
      );
    }

    // The agent as the daemon starts it for a detached runner (lib/self.ts detachedAgentCommand: its own V8
    // flags), beside the one run as `stratavore agent` (a session in the terminal: agent/foreground.ts, in the
    // process the user started, with its flags, after the CLI registered it in a child) and the floor, in one
    // window. On a daemon other than the listed
    // one, whose window is over.
    const other = subjects[2] ?? subjects[0];
    const { runner } = await other.client!.launch({ project: "bench", spawn: true, prompt: "hello" });
    const deadline = Date.now() + 30_000;
    let sessionPid: number | null | undefined;
    while (!sessionPid && Date.now() < deadline) {
      await sleep(500);
      sessionPid = (await other.client!.getRunner(runner.id)).pid;
    }
    if (!sessionPid) throw new Error("the detached runner did not start");
    // The session's parent is the detached agent.
    const stat = Deno.readTextFileSync(`/proc/${sessionPid}/stat`);
    const detachedPid = Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]);
    await sleep(DETACHED_S * 1000);
    const agents = [
      { label: "agent, detached (started by the daemon)", pid: detachedPid },
      { label: "agent, `stratavore agent -- claude`", pid: main.agent!.pid },
      { label: "bare deno process (floor)", pid: floor.pid },
    ];
    const seen = await watch(agents.map((a) => a.pid), 10);
    const own = agents.map((a) => memoryOf(a.pid));
    lines.push(
      `agents beside a session (${DETACHED_S} s after the detached one started, then 10 s):`,
      table(
        ["process", "RSS", "peak RSS", "above the floor", "private", "PSS"],
        agents.map((a, i) => [
          a.label,
          mb(seen[i].rss),
          mb(seen[i].peak),
          i < 2 ? mb(seen[i].rss - seen[2].rss) : "-",
          own[i] ? mb(own[i]!.private) : "-",
          own[i] ? mb(own[i]!.pss) : "-",
        ]),
      ),
    );
    return lines.join("\n");
  } finally {
    for (const s of subjects) {
      for (const r of await s.client?.listRunners({ project: "bench" }).catch(() => []) ?? []) {
        await s.client!.killRunner(r.id).catch(() => {});
      }
      if (s.agent) await Promise.race([s.agent.status, sleep(5000)]);
      try {
        s.agent?.kill("SIGKILL");
      } catch { /* ended */ }
      await s.agent?.status;
      await s.daemon?.stop();
      await s.drop?.();
      await Deno.remove(s.home!, { recursive: true }).catch(() => {});
    }
    await pm2?.stop();
    try {
      floor?.kill("SIGKILL");
    } catch { /* ended */ }
    await floor?.status;
    if (floorDir) await Deno.remove(floorDir, { recursive: true }).catch(() => {});
  }
}

if (import.meta.main) console.log(await benchFootprint());
