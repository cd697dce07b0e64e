/**
 * CLI latency: whole processes, as a user from a checkout runs them (`deno task cli …`), timed by hyperfine
 * beside `deno --version` (the runtime's floor) and an empty module (the floor of any `deno run`), in the
 * same run. `runners --json` lists 100 running runners.
 *   deno run -A bench/cli.ts [--runs 20]
 */
import { StratavoreClient } from "../lib/client.ts";
import { V8_FLAGS } from "../lib/self.ts";
import { baseEnv } from "../tests/helpers/cli.ts";
import { startDaemon } from "../tests/helpers/daemon.ts";
import { MAIN, REPO } from "../tests/helpers/env.ts";
import { pool, table } from "./lib.ts";

const RUNS = Number(/--runs[ =](\d+)/.exec(Deno.args.join(" "))?.[1] ?? 20);
const RUNNERS = 100;
const TARGETS: Record<string, number> = { "stratavore --help": 150, "stratavore status": 250 };

interface HyperfineResult {
  command: string;
  mean: number;
  stddev: number;
  median: number;
  min: number;
  max: number;
}

const q = (s: string) => `'${s.replaceAll("'", `'\\''`)}'`;

export async function benchCli(): Promise<string> {
  const daemon = await startDaemon({
    env: { STRATAVORE_LOG_LEVEL: "warn", STRATAVORE_HEARTBEAT_TTL: "1h" },
  });
  const tmp = await Deno.makeTempDir({ prefix: "stratavore-bench-cli-" });
  try {
    const client = new StratavoreClient({ url: daemon.url, token: daemon.token });
    await client.createProject({ name: "bench", path: tmp, maxRunners: RUNNERS });
    await pool(RUNNERS, 8, async (i) => {
      const { runner, token } = await client.launch({ project: "bench", labels: { n: String(i) } });
      const agent = client.withToken(token);
      await agent.started(runner.id, { pid: 10_000 + i, host: "bench-host", sessionId: crypto.randomUUID() });
      await agent.heartbeat(runner.id, {
        cpuPercent: i % 100,
        rssBytes: 200e6 + i * 1e6,
        tokens: { input: i * 100, output: i * 1000, cacheCreation: i * 5000, cacheRead: i * 50_000 },
      });
    });

    const env = baseEnv({ STRATAVORE_HOME: daemon.home });
    const deno = q(Deno.execPath());
    const cli = `${deno} run --allow-all --quiet --v8-flags=${V8_FLAGS.join(",")} ${q(MAIN)}`;
    const empty = `${tmp}/empty.ts`;
    await Deno.writeTextFile(empty, "");

    // What is measured must work: 100 runners in the JSON, the status answering.
    const check = await new Deno.Command("sh", {
      args: ["-c", `${cli} runners --json`],
      env,
      clearEnv: true,
      cwd: REPO,
      stdout: "piped",
    }).output();
    const listed = JSON.parse(new TextDecoder().decode(check.stdout)).runners.length;
    if (listed !== RUNNERS) throw new Error(`runners --json listed ${listed} runners, expected ${RUNNERS}`);

    const commands: [string, string][] = [
      ["deno --version", `${deno} --version`],
      ["deno run (empty module)", `${deno} run --quiet ${q(empty)}`],
      ["stratavore --help", `${cli} --help`],
      ["stratavore status", `${cli} status`],
      [`stratavore runners --json (${RUNNERS})`, `${cli} runners --json`],
    ];
    const exported = `${tmp}/hyperfine.json`;
    const out = await new Deno.Command("hyperfine", {
      args: [
        "--shell=none",
        "--warmup",
        "3",
        "--runs",
        String(RUNS),
        "--export-json",
        exported,
        "--style",
        "none",
        ...commands.flatMap(([name, cmd]) => ["--command-name", name, cmd]),
      ],
      env,
      clearEnv: true,
      cwd: REPO,
      stdout: "piped",
      stderr: "piped",
    }).output();
    if (!out.success) throw new Error(`hyperfine failed: ${new TextDecoder().decode(out.stderr)}`);
    const results: HyperfineResult[] = JSON.parse(await Deno.readTextFile(exported)).results;

    const msOf = (s: number) => `${(s * 1000).toFixed(1)} ms`;
    const floor = results[0].median;
    const rows = results.map((r) => {
      const target = TARGETS[r.command];
      return [
        r.command,
        msOf(r.median),
        `${msOf(r.mean)} ± ${msOf(r.stddev)}`,
        msOf(r.min),
        msOf(r.median - floor),
        target === undefined ? "" : `< ${target} ms: ${r.median * 1000 < target ? "met" : "MISSED"}`,
      ];
    });
    return [
      `CLI latency, whole processes (hyperfine, ${RUNS} runs after 3 warm-ups, ${RUNNERS} runners in the daemon)`,
      table(["command", "median", "mean ± σ", "min", "above deno --version", "target"], rows),
    ].join("\n");
  } finally {
    await daemon.stop();
    await Deno.remove(tmp, { recursive: true }).catch(() => {});
  }
}

if (import.meta.main) console.log(await benchCli());
