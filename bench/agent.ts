/**
 * Agent overhead per session: RSS and CPU time of `stratavore agent` around a long-running (fake) claude,
 * beside a bare `deno eval` process as the floor, in the same run. Heartbeats are sent every 100 ms so an
 * hour's worth at the default 10 s interval (360) is reached in ~40 s; CPU per hour is extrapolated from
 * the CPU per heartbeat plus the idle floor.
 *   deno run -A bench/agent.ts [--seconds 40]
 */
import { StratavoreClient } from "../lib/client.ts";
import { fixtureEnv, startDaemon } from "../tests/helpers/daemon.ts";
import { stratavoreCommand } from "../tests/helpers/cli.ts";
import { V8_FLAGS } from "../lib/self.ts";
import { mb, preciseCpuSecondsOf as cpuSecondsOf, rssOf, table } from "./lib.ts";

const SECONDS = Number(/--seconds[ =](\d+)/.exec(Deno.args.join(" "))?.[1] ?? 40);
const HEARTBEAT_MS = Number(/--interval-ms[ =](\d+)/.exec(Deno.args.join(" "))?.[1] ?? 100);
const PER_HOUR_AT_10S = 360;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function measure(pid: number, seconds: number) {
  const cpu0 = cpuSecondsOf(pid) ?? 0;
  let peak = 0;
  const end = Date.now() + seconds * 1000;
  while (Date.now() < end) {
    peak = Math.max(peak, rssOf(pid) ?? 0);
    await sleep(500);
  }
  return { cpu: (cpuSecondsOf(pid) ?? 0) - cpu0, rss: rssOf(pid) ?? 0, peak };
}

export async function benchAgent(): Promise<string> {
  const home = await Deno.makeTempDir({ prefix: "stratavore-bench-agent-" });
  const claudeDir = `${home}/claude`;
  const work = `${home}/work`;
  await Deno.mkdir(claudeDir, { recursive: true });
  await Deno.mkdir(work, { recursive: true });
  const env = fixtureEnv(home, claudeDir);
  const daemon = await startDaemon({
    home,
    env: { ...env, STRATAVORE_LOG_LEVEL: "warn", STRATAVORE_HEARTBEAT_TTL: "1h" },
  });
  try {
    const client = new StratavoreClient({ url: daemon.url, token: daemon.token });
    await client.createProject({ name: "bench", path: work });

    // Floor: a bare Deno process doing nothing, measured over the same window.
    const floor = new Deno.Command(Deno.execPath(), {
      args: ["eval", "setInterval(() => {}, 10_000)"],
      stdout: "null",
      stderr: "null",
    }).spawn();
    await sleep(2000);

    const plan = JSON.stringify({ turns: [{}], hooks: [], sleepMs: (SECONDS + 30) * 1000 });
    const agent = stratavoreCommand(["agent", "--heartbeat", `${HEARTBEAT_MS}ms`, "--", "claude"], {
      env: { ...env, FAKE_CLAUDE_PLAN: plan },
      cwd: work,
      // The flags every stratavore process runs with (baked into the compiled binary by build.ts).
      denoFlags: ["--allow-all", `--v8-flags=${V8_FLAGS.join(",")}`],
    }).spawn();
    await sleep(HEARTBEAT_MS >= 1000 ? 15_000 : 3000); // start-up (module loading, code cache writes) is not steady state
    const before = (await client.listRunners({ project: "bench" }))[0]?.heartbeatCount ?? 0;
    const [a, f] = await Promise.all([measure(agent.pid, SECONDS), measure(floor.pid, SECONDS)]);
    const runner = (await client.listRunners({ project: "bench" }))[0];
    const beats = (runner?.heartbeatCount ?? 0) - before;
    floor.kill("SIGKILL");
    await floor.status;
    if (runner) await client.killRunner(runner.id);
    await agent.output();

    const perBeat = beats > 0 ? Math.max(0, a.cpu - f.cpu) / beats : NaN;
    const idlePerHour = (f.cpu / SECONDS) * 3600;
    const cpuPerHour = perBeat * PER_HOUR_AT_10S + idlePerHour;
    return [
      `agent overhead (${SECONDS} s window, heartbeat every ${HEARTBEAT_MS} ms, ${beats} heartbeats)`,
      table(["process", "RSS", "peak RSS", "CPU in window"], [
        ["stratavore agent", mb(a.rss), mb(a.peak), `${a.cpu.toFixed(2)} s`],
        ["deno eval (floor)", mb(f.rss), mb(f.peak), `${f.cpu.toFixed(2)} s`],
      ]),
      `CPU per heartbeat above the floor: ${(perBeat * 1000).toFixed(2)} ms`,
      `CPU per hour at the default 10 s interval: ${cpuPerHour.toFixed(2)} s (target < 1 s: ${
        cpuPerHour < 1 ? "met" : "NOT met"
      })`,
      `RSS: ${mb(a.peak)} peak (target < 40 MB: ${a.peak < 40 * 1048576 ? "met" : "NOT met"}; floor ${
        mb(f.peak)
      })`,
    ].join("\n");
  } finally {
    await daemon.stop();
    await Deno.remove(home, { recursive: true }).catch(() => {});
  }
}

if (import.meta.main) console.log(await benchAgent());
