/**
 * What a test daemon costs: a daemon subprocess (tests/helpers/daemon.ts's startDaemon: deno start, module
 * graph, PGlite's WebAssembly compile) against the same daemon in the test process (startInProcessDaemon),
 * each started, asked /healthz and stopped, alternating, on both backends. CPU of this process (copying the
 * seeded PGlite, waiting) plus the subprocess's own (`/usr/bin/time`); Linux only.
 *
 *   deno task bench test-daemon [--rounds 5]
 */
import process from "node:process";
import { readDaemonInfo } from "../lib/daemon_info.ts";
import { baseEnv } from "../tests/helpers/cli.ts";
import { startInProcessDaemon } from "../tests/helpers/daemon.ts";
import { freshPgliteDir, freshPostgres } from "../tests/helpers/db.ts";
import { copyDir, removeDir, tempDir } from "../tests/helpers/fs.ts";
import { MAIN, PG_AVAILABLE } from "../tests/helpers/env.ts";
import { table } from "./lib.ts";

const ROUNDS = Number(Deno.args[Deno.args.indexOf("--rounds") + 1]) || 5;

// Measured as the test task runs its files: PGlite's WebAssembly on V8's baseline compiler only.
if (!Deno.args.includes("--as-tests")) {
  const out = await new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "--allow-all",
      "--v8-flags=--liftoff-only",
      new URL(import.meta.url).pathname,
      "--as-tests",
      ...Deno.args,
    ],
    stdout: "inherit",
    stderr: "inherit",
  }).output();
  Deno.exit(out.code);
}

const selfCpu = () => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1e6;
};

interface Sample {
  wall: number;
  cpu: number;
}

/** As startDaemon does it, with the child's CPU read from /usr/bin/time when it has exited. */
async function subprocess(databaseUrl?: string): Promise<Sample> {
  const t0 = performance.now(), c0 = selfCpu();
  const home = await tempDir("bench-home-");
  if (!databaseUrl) {
    const seeded = await freshPgliteDir();
    await copyDir(seeded, `${home}/data`);
    await removeDir(seeded);
  }
  const child = new Deno.Command("/usr/bin/time", {
    args: [
      "-f",
      "CPU %U %S",
      Deno.execPath(),
      "run",
      "--allow-all",
      "--quiet",
      "--v8-flags=--liftoff-only",
      MAIN,
      "daemon",
    ],
    env: baseEnv({
      STRATAVORE_HOME: home,
      STRATAVORE_LISTEN: "127.0.0.1:0",
      STRATAVORE_METRICS_LISTEN: "127.0.0.1:0",
      STRATAVORE_LOG_FORMAT: "json",
      STRATAVORE_LOG_LEVEL: "debug",
      ...(databaseUrl ? { DATABASE_URL: databaseUrl } : {}),
    }),
    clearEnv: true,
    stdout: "null",
    stderr: "piped",
  }).spawn();
  const stderr = new Response(child.stderr).text();
  let info = readDaemonInfo(home);
  while (!info) {
    await new Promise((r) => setTimeout(r, 50));
    info = readDaemonInfo(home);
  }
  await fetch(`${info.url}/healthz`).then((r) => r.text());
  Deno.kill(info.pid, "SIGTERM");
  await child.status;
  const m = /CPU ([\d.]+) ([\d.]+)/.exec(await stderr);
  if (!m) throw new Error(`no CPU figure from /usr/bin/time:\n${await stderr}`);
  await removeDir(home);
  return { wall: performance.now() - t0, cpu: selfCpu() - c0 + Number(m[1]) + Number(m[2]) };
}

async function inProcess(databaseUrl?: string): Promise<Sample> {
  const t0 = performance.now(), c0 = selfCpu();
  const d = await startInProcessDaemon({ databaseUrl });
  await fetch(`${d.url}/healthz`).then((r) => r.text());
  await d.stop();
  return { wall: performance.now() - t0, cpu: selfCpu() - c0 };
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

const rows: (string | number)[][] = [];
for (const backend of PG_AVAILABLE ? ["pglite", "postgres"] : ["pglite"]) {
  const sub: Sample[] = [], inp: Sample[] = [];
  // The first in-process start pays the module graph and PGlite's compile once per test file: counted apart.
  const first = await (async () => {
    const pg = backend === "postgres" ? await freshPostgres() : undefined;
    try {
      return await inProcess(pg?.url);
    } finally {
      await pg?.drop();
    }
  })();
  for (let i = 0; i < ROUNDS; i++) {
    for (const kind of i % 2 ? ["sub", "in"] : ["in", "sub"]) {
      const pg = backend === "postgres" ? await freshPostgres() : undefined;
      try {
        if (kind === "sub") sub.push(await subprocess(pg?.url));
        else inp.push(await inProcess(pg?.url));
      } finally {
        await pg?.drop();
      }
    }
  }
  const s = median(sub.map((x) => x.cpu)), p = median(inp.map((x) => x.cpu));
  rows.push([
    backend,
    `${s.toFixed(2)} s`,
    `${p.toFixed(2)} s`,
    `${first.cpu.toFixed(2)} s`,
    `${(p / s).toFixed(2)}x`,
    `${median(sub.map((x) => x.wall)).toFixed(0)} / ${median(inp.map((x) => x.wall)).toFixed(0)} ms`,
  ]);
}
console.log(`test daemon start + /healthz + stop, median of ${ROUNDS} each, alternating`);
console.log(table(
  ["backend", "subprocess CPU", "in-process CPU", "first in-process", "ratio", "wall sub / in"],
  rows,
));
