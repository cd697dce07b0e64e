/**
 * What Claude Code's telemetry costs the daemon: runners post OTLP metric exports shaped like the real
 * client's (tests/fixtures/otlp/metrics.json) through the API, with a changed cumulative cost each time (a
 * booking) or unchanged (what an idle session exports every interval), beside signed heartbeats of the same
 * runners in the same run as the reference.
 *   deno run -A bench/telemetry.ts [--seconds 5] [--runners 50] [--backends pglite,postgres]
 */
import { StratavoreClient } from "../lib/client.ts";
import { HeartbeatSigner } from "../lib/signature.ts";
import { startDaemon } from "../tests/helpers/daemon.ts";
import { freshPostgres } from "../tests/helpers/db.ts";
import { drive, ms, pool, table } from "./lib.ts";

const args = Deno.args.join(" ");
const SECONDS = Number(/--seconds[ =](\d+)/.exec(args)?.[1] ?? 5);
const RUNNERS = Number(/--runners[ =](\d+)/.exec(args)?.[1] ?? 50);
const BACKENDS = (/--backends[ =]([a-z,]+)/.exec(args)?.[1] ?? "pglite,postgres").split(",");
const CONCURRENCY = 16;

const FIXTURE = await Deno.readTextFile(new URL("../tests/fixtures/otlp/metrics.json", import.meta.url));

/** The fixture for one runner, its cost counter set to `cost` (cumulative, as Claude Code sends it). */
function exportFor(runnerId: number, cost: number): string {
  return FIXTURE.replaceAll('"stringValue": "42"', `"stringValue": "${runnerId}"`)
    .replace('"asDouble": 0.00561', `"asDouble": ${cost}`);
}

interface Row {
  label: string;
  rate: number;
  p50: number;
  p99: number;
  /** Daemon CPU milliseconds per request. */
  cpuMs: number;
  errors: number;
}

async function run(backend: string): Promise<Row[]> {
  const pg = backend === "postgres" ? await freshPostgres() : undefined;
  const daemon = await startDaemon({
    databaseUrl: pg?.url,
    env: { STRATAVORE_LOG_LEVEL: "warn", STRATAVORE_HEARTBEAT_TTL: "1h" },
  });
  try {
    const admin = new StratavoreClient({ url: daemon.url, token: daemon.token });
    await admin.createProject({ name: "bench", path: "/tmp", maxRunners: 100_000 });
    const runners = await pool(RUNNERS, 8, async () => {
      const { runner, token } = await admin.launch({ project: "bench" });
      const auth = { authorization: `Bearer ${token}`, "content-type": "application/json" };
      await fetch(`${daemon.url}/api/v1/runners/${runner.id}/started`, {
        method: "POST",
        headers: auth,
        body: JSON.stringify({ pid: 1000 + runner.id, host: "bench", telemetry: "stratavore" }),
      }).then((r) => r.body?.cancel());
      return { id: runner.id, auth, signer: new HeartbeatSigner(token), cost: 0 };
    });
    const post = async (path: string, headers: Record<string, string>, body: string) => {
      const res = await fetch(`${daemon.url}${path}`, { method: "POST", headers, body });
      await res.arrayBuffer();
      if (res.status !== 200) throw new Error(`HTTP ${res.status}`);
    };
    const hbBody = JSON.stringify({ cpuPercent: 1.5, rssBytes: 50_000_000 });
    const heartbeats = await drive(SECONDS, { concurrency: CONCURRENCY, daemonPid: daemon.pid }, (i) => {
      const r = runners[i % runners.length];
      return post(`/api/v1/runners/${r.id}/heartbeat`, { ...r.auth, ...r.signer.headers(hbBody) }, hbBody);
    });
    const changed = await drive(SECONDS, { concurrency: CONCURRENCY, daemonPid: daemon.pid }, (i) => {
      const r = runners[i % runners.length];
      r.cost += 0.001;
      return post("/api/v1/otlp/v1/metrics", r.auth, exportFor(r.id, r.cost));
    });
    const unchanged = await drive(SECONDS, { concurrency: CONCURRENCY, daemonPid: daemon.pid }, (i) => {
      const r = runners[i % runners.length];
      return post("/api/v1/otlp/v1/metrics", r.auth, exportFor(r.id, r.cost));
    });
    const label = (what: string) => `${what}, ${backend}, ${RUNNERS} runners`;
    return [
      { label: label("signed heartbeats (reference)"), ...heartbeats },
      { label: label("OTLP metric exports, cost changed (booked)"), ...changed },
      { label: label("OTLP metric exports, unchanged (idle session)"), ...unchanged },
    ];
  } finally {
    await daemon.stop();
    await pg?.drop();
  }
}

export async function benchTelemetry(): Promise<string> {
  const rows: Row[] = [];
  for (const b of BACKENDS) rows.push(...await run(b));
  const lines = [
    `telemetry ingest (${SECONDS} s per run, ${CONCURRENCY} concurrent clients, export of ${FIXTURE.length} bytes)`,
    table(
      ["run", "per second", "p50", "p99", "daemon CPU per request", "errors"],
      rows.map((r) => [r.label, Math.round(r.rate), ms(r.p50), ms(r.p99), ms(r.cpuMs), r.errors]),
    ),
  ];
  for (const b of BACKENDS) {
    const hb = rows.find((r) => r.label.startsWith("signed") && r.label.includes(b));
    for (const what of ["cost changed", "unchanged"]) {
      const t = rows.find((r) => r.label.includes(what) && r.label.includes(b));
      if (hb && t) {
        lines.push(
          `${b}: an export (${what}) costs ${(t.cpuMs / hb.cpuMs).toFixed(2)}x a heartbeat's daemon CPU`,
        );
      }
    }
  }
  return lines.join("\n");
}

if (import.meta.main) console.log(await benchTelemetry());
