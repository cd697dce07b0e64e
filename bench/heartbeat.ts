/**
 * Heartbeat ingestion: N runners (1,000 and 10,000), each with its own token, post heartbeats through the
 * real HTTP API for a bounded time. Prints heartbeats/s, p50/p99 latency and daemon RSS on PGlite and on
 * PostgreSQL, and beside it a baseline of plain single-row UPDATEs through postgres.js on the same server.
 * The load generator shares the machine with the daemon and PostgreSQL; by default it posts over keep-alive
 * HTTP/1.1 sockets (bench/lib.ts RawHttpClient), whose CPU per request is closer to postgres.js's per query
 * than Deno's fetch is (`--client fetch` for that). Each run prints its client's CPU per operation.
 *   deno run -A bench/heartbeat.ts [--seconds 10] [--runners 1000,10000] [--backends pglite,postgres]
 *     [--client raw|fetch] [--v8-flags <flag,…>]
 */
import postgres from "postgres";
import { StratavoreClient } from "../lib/client.ts";
import { DAEMON_V8_FLAGS, V8_FLAGS } from "../lib/self.ts";
import { HeartbeatSigner } from "../lib/signature.ts";
import { startDaemon } from "../tests/helpers/daemon.ts";
import { freshPostgres } from "../tests/helpers/db.ts";
import { cpuSecondsOf, cpuSecondsOfAll, drive, mb, ms, pool, RawHttpClient, rssOf, table } from "./lib.ts";

const args = Deno.args.join(" ");
const SECONDS = Number(/--seconds[ =](\d+)/.exec(args)?.[1] ?? 10);
const SIZES = (/--runners[ =]([\d,]+)/.exec(args)?.[1] ?? "1000,10000").split(",").map(Number);
const BACKENDS = (/--backends[ =]([a-z,]+)/.exec(args)?.[1] ?? "pglite,postgres").split(",");
const CLIENT = /--client[ =](fetch|raw)/.exec(args)?.[1] ?? "raw";
/** V8 flags for the daemon besides the ones users get (lib/self.ts V8_FLAGS), e.g. `--v8-flags --max-semi-space-size=1`. */
const EXTRA_V8 = /--v8-flags[ =](\S+)/.exec(args)?.[1]?.split(",") ?? [];
const CONCURRENCY = 64;

interface Result {
  label: string;
  rate: number;
  p50: number;
  p99: number;
  rss?: number;
  errors: number;
  /** CPU seconds per second of wall time: daemon, load generator, PostgreSQL. */
  cpu?: { daemon: number; client: number; postgres: number };
}

function cpuSnapshot(daemonPid?: number) {
  return {
    daemon: daemonPid ? cpuSecondsOf(daemonPid) ?? 0 : 0,
    client: cpuSecondsOf(Deno.pid) ?? 0,
    postgres: cpuSecondsOfAll("postgres"),
  };
}

function cpuSince(before: ReturnType<typeof cpuSnapshot>, daemonPid: number | undefined, seconds: number) {
  const now = cpuSnapshot(daemonPid);
  return {
    daemon: (now.daemon - before.daemon) / seconds,
    client: (now.client - before.client) / seconds,
    postgres: (now.postgres - before.postgres) / seconds,
  };
}

async function heartbeatRun(backend: string, runners: number): Promise<Result[]> {
  const pg = backend === "postgres" ? await freshPostgres() : undefined;
  const daemon = await startDaemon({
    databaseUrl: pg?.url,
    // As users run it (not with the tests' V8 flags), plus any given.
    denoFlags: ["--allow-all", `--v8-flags=${[...V8_FLAGS, ...DAEMON_V8_FLAGS, ...EXTRA_V8].join(",")}`],
    userFlags: true,
    env: { STRATAVORE_LOG_LEVEL: "warn", STRATAVORE_HEARTBEAT_TTL: "1h" },
  });
  const results: Result[] = [];
  try {
    const admin = new StratavoreClient({ url: daemon.url, token: daemon.token });
    await admin.createProject({ name: "bench", path: "/tmp", maxRunners: 100_000 });
    const t0 = performance.now();
    const agents = await pool(runners, 16, async () => {
      const { runner, token } = await admin.launch({ project: "bench" });
      const headers = { authorization: `Bearer ${token}`, "content-type": "application/json" };
      await fetch(`${daemon.url}/api/v1/runners/${runner.id}/started`, {
        method: "POST",
        headers,
        body: JSON.stringify({ pid: 1000 + runner.id, host: "bench" }),
      }).then((r) => r.body?.cancel());
      return { id: runner.id, headers, signer: new HeartbeatSigner(token) };
    });
    console.error(
      `  ${backend}: ${runners} runners launched in ${((performance.now() - t0) / 1000).toFixed(1)} s`,
    );
    const body = JSON.stringify({
      cpuPercent: 1.5,
      rssBytes: 50_000_000,
      tokens: { input: 1, output: 2, cacheCreation: 3, cacheRead: 4 },
    });
    const raw = new RawHttpClient(daemon.url);
    const cpu0 = cpuSnapshot(daemon.pid);
    const r = await drive(SECONDS, { concurrency: CONCURRENCY }, async (i) => {
      const a = agents[i % agents.length];
      // Signed as the agent signs (lib/signature.ts).
      const headers = { ...a.headers, ...a.signer.headers(body) };
      const path = `/api/v1/runners/${a.id}/heartbeat`;
      if (CLIENT === "raw") {
        const res = await raw.post(path, headers, body);
        if (res.status !== 200) throw new Error(`HTTP ${res.status}: ${res.body.slice(0, 200)}`);
        return;
      }
      const res = await fetch(`${daemon.url}${path}`, { method: "POST", headers, body });
      await res.arrayBuffer();
      if (res.status !== 200) throw new Error(`HTTP ${res.status}`);
    });
    raw.close();
    results.push({
      label: `heartbeats via API, ${backend}, ${runners} runners (${CLIENT} client${
        EXTRA_V8.length ? `, ${EXTRA_V8.join(" ")}` : ""
      })`,
      rate: r.rate,
      p50: r.p50,
      p99: r.p99,
      rss: rssOf(daemon.pid),
      errors: r.errors,
      cpu: cpuSince(cpu0, daemon.pid, SECONDS),
    });
    if (pg) {
      // Baseline: the cheapest possible write per heartbeat, straight to the same server.
      const sql = postgres(pg.url, { max: 10, onnotice: () => {} });
      const ids = agents.map((a) => a.id);
      const cpuB = cpuSnapshot();
      const b = await drive(SECONDS, { concurrency: CONCURRENCY }, async (i) => {
        await sql`UPDATE runners SET last_heartbeat_at = now() WHERE id = ${ids[i % ids.length]}`;
      });
      const baseCpu = cpuSince(cpuB, undefined, SECONDS);
      await sql.end();
      results.push({
        label: `baseline single-row UPDATE, postgres.js, ${runners} rows`,
        rate: b.rate,
        p50: b.p50,
        p99: b.p99,
        errors: b.errors,
        cpu: baseCpu,
      });
    }
  } finally {
    await daemon.stop();
    await pg?.drop();
  }
  return results;
}

export async function benchHeartbeats(): Promise<string> {
  const all: Result[] = [];
  for (const backend of BACKENDS) {
    for (const n of SIZES) all.push(...await heartbeatRun(backend, n));
  }
  const lines = [
    `heartbeat ingestion (${SECONDS} s per run, ${CONCURRENCY} concurrent clients, ${navigator.hardwareConcurrency} cores)`,
    table(
      ["run", "per second", "p50", "p99", "daemon RSS", "errors", "CPU daemon/client/postgres"],
      all.map((
        r,
      ) => [
        r.label,
        Math.round(r.rate),
        ms(r.p50),
        ms(r.p99),
        r.rss ? mb(r.rss) : "-",
        r.errors,
        r.cpu
          ? `${r.cpu.daemon.toFixed(2)} / ${r.cpu.client.toFixed(2)} / ${r.cpu.postgres.toFixed(2)}`
          : "-",
      ]),
    ),
  ];
  for (const n of SIZES) {
    const api = all.find((r) => r.label.startsWith(`heartbeats via API, postgres, ${n} runners`));
    const base = all.find((r) => r.label.startsWith("baseline") && r.label.includes(`${n} rows`));
    if (api && base) {
      lines.push(
        `postgres, ${n} runners: API heartbeats are ${
          (api.rate / base.rate).toFixed(2)
        }x the baseline's rate` +
          ` (target >= 5000/s with p99 < 50 ms: ${api.rate >= 5000 && api.p99 < 50 ? "met" : "NOT met"})`,
      );
      // The daemon's CPU per heartbeat moves less with a loaded machine than the rates do (PostgreSQL's CPU
      // is every database's on the server, so it is left out here).
      if (api.cpu && base.cpu) {
        lines.push(
          `postgres, ${n} runners: the daemon's CPU per heartbeat ${
            (api.cpu.daemon / api.rate * 1e6).toFixed(0)
          } µs; the load generator's ${(api.cpu.client / api.rate * 1e6).toFixed(0)} µs per heartbeat, ${
            (base.cpu.client / base.rate * 1e6).toFixed(0)
          } µs per baseline UPDATE`,
        );
      }
    }
  }
  return lines.join("\n");
}

if (import.meta.main) console.log(await benchHeartbeats());
