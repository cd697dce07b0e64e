/**
 * Keystroke round trip through the daemon: a viewer types a marker into a detached session (the fake
 * claude in a pseudo-terminal, writing a steady 1 MB/s of output) and waits for its echo to come back
 * through agent → daemon → viewer. Prints p50/p99; target p99 < 30 ms on loopback.
 *   deno run -A bench/attach.ts [--samples 300] [--flood 1000000]
 */
import { StratavoreClient } from "../lib/client.ts";
import { loadTerminalClient } from "../lib/ws.ts";
import { fixtureEnv, startDaemon } from "../tests/helpers/daemon.ts";
import { ms, summarize, table } from "./lib.ts";

const args = Deno.args.join(" ");
const SAMPLES = Number(/--samples[ =](\d+)/.exec(args)?.[1] ?? 300);
const FLOOD = Number(/--flood[ =](\d+)/.exec(args)?.[1] ?? 1_000_000);

async function run(flood: number) {
  const home = await Deno.makeTempDir({ prefix: "stratavore-bench-attach-" });
  await Deno.mkdir(`${home}/claude`);
  await Deno.mkdir(`${home}/work`);
  const plan = `${home}/plan.json`;
  await Deno.writeTextFile(plan, JSON.stringify({ interactive: true, hooks: [], flood }));
  const daemon = await startDaemon({
    home,
    env: {
      ...fixtureEnv(home, `${home}/claude`),
      FAKE_CLAUDE_PLAN: `@${plan}`,
      STRATAVORE_LOG_LEVEL: "warn",
    },
  });
  try {
    const client = new StratavoreClient({ url: daemon.url, token: daemon.token });
    await client.createProject({ name: "bench", path: `${home}/work` });
    const { runner } = await client.launch({ project: "bench", spawn: true });
    // An event-driven viewer: each frame is searched (with a little overlap) for the marker in flight.
    await loadTerminalClient(); // as `attach` does: TCP_NODELAY
    const ws = client.webSocket(`/api/v1/runners/${runner.id}/attach`, { mode: "rw", name: "bench" });
    ws.binaryType = "arraybuffer";
    const dec = new TextDecoder();
    let tail = "";
    let received = 0;
    let waiting: { marker: string; resolve: () => void } | undefined;
    let prompt!: () => void;
    const promptSeen = new Promise<void>((r) => (prompt = r));
    ws.onmessage = (e) => {
      if (typeof e.data === "string") return;
      const bytes = new Uint8Array(e.data as ArrayBuffer);
      received += bytes.byteLength;
      const text = tail + dec.decode(bytes, { stream: true });
      if (text.includes("> ")) prompt();
      if (waiting && text.includes(waiting.marker)) {
        waiting.resolve();
        waiting = undefined;
      }
      tail = text.slice(-32);
    };
    await new Promise((r) => (ws.onopen = r));
    await promptSeen;
    const latencies: number[] = [];
    const t0 = performance.now();
    const r0 = received;
    for (let i = 0; i < SAMPLES; i++) {
      const marker = `#${i}#`;
      const start = performance.now();
      await new Promise<void>((resolve) => {
        waiting = { marker, resolve };
        ws.send(new TextEncoder().encode(marker));
        setTimeout(resolve, 5000);
      });
      latencies.push(performance.now() - start);
      ws.send(new TextEncoder().encode("\x15")); // Ctrl-U: clear the typed line
      await new Promise((r) => setTimeout(r, 5));
    }
    const seconds = (performance.now() - t0) / 1000;
    const throughput = (received - r0) / seconds;
    ws.close();
    await client.killRunner(runner.id);
    return { flood, ...summarize(latencies), throughput };
  } finally {
    await daemon.stop();
    await Deno.remove(home, { recursive: true }).catch(() => {});
  }
}

export async function benchAttach(): Promise<string> {
  const rows = [await run(0), await run(FLOOD)];
  const loaded = rows[1];
  return [
    `keystroke round trip through the daemon (${SAMPLES} keystrokes each)`,
    table(
      ["background output", "p50", "p99", "max", "viewer received"],
      rows.map((r) => [
        r.flood ? `${(r.flood / 1e6).toFixed(1)} MB/s` : "none",
        ms(r.p50),
        ms(r.p99),
        ms(r.max),
        `${(r.throughput / 1e6).toFixed(2)} MB/s`,
      ]),
    ),
    `target p99 < 30 ms under ${(FLOOD / 1e6).toFixed(1)} MB/s: ${loaded.p99 < 30 ? "met" : "NOT met"}`,
  ].join("\n");
}

if (import.meta.main) console.log(await benchAttach());
