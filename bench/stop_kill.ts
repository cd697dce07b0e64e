/**
 * Stop and kill latency: the time from the API call (`POST /runners/:id/stop|kill`) until the session's
 * process has ended, for each kind of runner (interactive agent, detached headless, detached with a
 * terminal), beside a baseline measured in the same run: the same kind of session ended by a signal sent
 * straight to its process (delivery, exit and this benchmark's polling: the floor). The session is `sleep`.
 * On PGlite, and on PostgreSQL when a server answers (a fresh database, as the tests make).
 *   deno run -A bench/stop_kill.ts [--samples 5] [--pglite-only]
 */
import { StratavoreClient } from "../lib/client.ts";
import type { Runner } from "../lib/schemas/runner.ts";
import { fixtureEnv, startDaemon } from "../tests/helpers/daemon.ts";
import { stratavoreCommand } from "../tests/helpers/cli.ts";
import { freshPostgres } from "../tests/helpers/db.ts";
import { PG_AVAILABLE } from "../tests/helpers/env.ts";
import { ms, summarize, table } from "./lib.ts";

const args = Deno.args.join(" ");
const SAMPLES = Number(/--samples[ =](\d+)/.exec(args)?.[1] ?? 5);
const PGLITE_ONLY = args.includes("--pglite-only");

type Kind = "interactive" | "headless" | "pty";
type How = "stop" | "kill" | "signal";

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Whether a process has ended (gone, or a zombie waiting for its parent). Linux /proc. */
function ended(pid: number): boolean {
  try {
    const stat = Deno.readTextFileSync(`/proc/${pid}/stat`);
    return stat.slice(stat.lastIndexOf(")") + 2).startsWith("Z");
  } catch {
    return true;
  }
}

async function until<T>(what: string, fn: () => Promise<T | undefined>, timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const v = await fn();
    if (v !== undefined) return v;
    await sleep(20);
  }
  throw new Error(`timed out waiting for ${what}`);
}

interface Sample {
  /** API call → its answer. */
  answered: number;
  /** API call (or signal) → the process has ended. */
  ended: number;
}

async function run(databaseUrl?: string): Promise<Map<string, Sample[]>> {
  const home = await Deno.makeTempDir({ prefix: "stratavore-bench-stop-" });
  await Deno.mkdir(`${home}/claude`);
  await Deno.mkdir(`${home}/work`);
  const env = fixtureEnv(home, `${home}/claude`);
  const daemon = await startDaemon({
    home,
    databaseUrl,
    env: { ...env, STRATAVORE_LOG_LEVEL: "warn" },
  });
  const agents: Deno.ChildProcess[] = [];
  const results = new Map<string, Sample[]>();
  try {
    const client = new StratavoreClient({ url: daemon.url, token: daemon.token });
    await client.createProject({ name: "bench", path: `${home}/work`, maxRunners: 1000 });

    const start = async (kind: Kind): Promise<Runner> => {
      let id: number;
      if (kind === "interactive") {
        const before = new Set((await client.listRunners({ all: true })).map((r) => r.id));
        const agent = stratavoreCommand(["agent", "--project", "bench", "--", "sleep", "600"], {
          env,
          cwd: `${home}/work`,
        }).spawn();
        agents.push(agent);
        id = await until("the agent's runner", async () => {
          const fresh = (await client.listRunners({ all: true })).find((r) => !before.has(r.id));
          return fresh?.id;
        });
      } else {
        // The command and its arguments are given whole, so the run does not depend on how a project's
        // default arguments are applied (which this benchmark is not about).
        const { runner } = await client.launch({
          project: "bench",
          command: "sleep",
          args: ["600"],
          spawn: true,
          ...(kind === "headless" ? { prompt: "1" } : {}),
        });
        id = runner.id;
      }
      return await until(`runner ${id} running`, async () => {
        const r = await client.getRunner(id);
        if (r.state !== "starting" && r.state !== "running") throw new Error(`runner ${id} is ${r.state}`);
        return r.state === "running" && r.pid ? r : undefined;
      });
    };

    const once = async (kind: Kind, how: How): Promise<Sample> => {
      const runner = await start(kind);
      const pid = runner.pid!;
      await sleep(200 + Math.random() * 800); // not in step with the agent's heartbeat
      const t0 = performance.now();
      if (how === "stop") await client.stopRunner(runner.id);
      else if (how === "kill") await client.killRunner(runner.id);
      else Deno.kill(pid, "SIGTERM");
      const answered = performance.now() - t0;
      while (!ended(pid)) {
        if (performance.now() - t0 > 60_000) throw new Error(`runner ${runner.id}'s process outlived 60 s`);
        await sleep(2);
      }
      const took = { answered, ended: performance.now() - t0 };
      await until(`runner ${runner.id} ended`, async () => {
        const r = await client.getRunner(runner.id);
        return r.state === "stopping" || r.state === "running" ? undefined : r;
      });
      return took;
    };

    for (const kind of ["interactive", "headless", "pty"] as const) {
      for (let i = 0; i < SAMPLES; i++) {
        for (const how of ["signal", "stop", "kill"] as const) {
          const key = `${kind}/${how}`;
          results.set(key, [...results.get(key) ?? [], await once(kind, how)]);
        }
      }
    }
  } finally {
    for (const a of agents) {
      try {
        a.kill("SIGKILL");
      } catch { /* ended */ }
      await a.status;
    }
    await daemon.stop();
    await Deno.remove(home, { recursive: true }).catch(() => {});
  }

  return results;
}

function report(title: string, results: Map<string, Sample[]>): string {
  const ended = (key: string) => results.get(key)!.map((x) => x.ended);
  const rows: string[][] = [];
  for (const kind of ["interactive", "headless", "pty"] as const) {
    const floor = summarize(ended(`${kind}/signal`));
    for (const how of ["signal", "stop", "kill"] as const) {
      const s = summarize(ended(`${kind}/${how}`));
      const answered = summarize(results.get(`${kind}/${how}`)!.map((x) => x.answered));
      rows.push([
        kind,
        how === "signal" ? "SIGTERM to the process (floor)" : `${how} through the API`,
        how === "signal" ? "-" : ms(answered.p50),
        ms(s.p50),
        ms(s.max),
        how === "signal" ? "-" : `${(s.p50 / floor.p50).toFixed(1)}x`,
      ]);
    }
  }
  const worst = Math.max(
    ...[...results].filter(([k]) => !k.endsWith("/signal")).flatMap(([, v]) => v.map((x) => x.ended)),
  );
  return [
    `stop and kill latency, API call → process ended (${SAMPLES} each, ${title})`,
    table(["runner", "how", "answered p50", "ended p50", "ended max", "p50 / floor"], rows),
    `target: every stop and kill ends the process within 1 s: ${worst < 1000 ? "met" : "NOT met"} (worst ${
      ms(worst)
    })`,
  ].join("\n");
}

export async function benchStopKill(): Promise<string> {
  const out = [report("PGlite", await run())];
  if (!PGLITE_ONLY && PG_AVAILABLE) {
    const pg = await freshPostgres();
    try {
      out.push(report("PostgreSQL", await run(pg.url)));
    } finally {
      await pg.drop();
    }
  }
  return out.join("\n\n");
}

if (import.meta.main) console.log(await benchStopKill());
