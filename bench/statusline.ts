/**
 * The statusline Stratavore sets for the sessions it starts: what it adds to each statusline update. Claude
 * Code runs the statusline command after each turn (and on some state changes), with its JSON on stdin.
 * Measured in one run, against a real daemon:
 * - baseline: the user's own statusline command alone (a shell that reads stdin and prints a line);
 * - Stratavore's, wrapping it (reports the windows to the daemon, runs the user's command with the same
 *   stdin, prints its output), as `deno run agent/statusline.ts` (how a checkout runs it);
 * - Stratavore's with no statusline of the user's (its own short line);
 * - a bare Deno start, the floor of any Deno-based command.
 *   deno run -A bench/statusline.ts [--runs 30]
 */
import { startDaemon } from "../tests/helpers/daemon.ts";
import { statuslineArgv } from "../lib/self.ts";
import { cpuSecondsOf, ms, startedRunner, summarize, table } from "./lib.ts";

const RUNS = Number(/--runs[ =](\d+)/.exec(Deno.args.join(" "))?.[1] ?? 30);
const now = Math.floor(Date.now() / 1000);
/** Claude Code's statusline JSON; `used` changes the figures (a report is sent only when they change). */
const stdinOf = (used: number) =>
  JSON.stringify({
    session_id: "bench-session",
    cwd: "/tmp",
    model: { id: "claude-sonnet-5-5", display_name: "Sonnet 5.5" },
    cost: { total_cost_usd: 0.42 },
    rate_limits: {
      five_hour: { used_percentage: used, resets_at: now + 7200 },
      seven_day: { used_percentage: 21, resets_at: now + 5 * 86400 },
    },
  });
const USER_COMMAND = `sh -c 'cat > /dev/null; echo "my statusline"'`;

async function timed(argv: string[], changing = false): Promise<{ lat: number[]; out: string }> {
  const lat: number[] = [];
  let out = "";
  for (let i = 0; i < RUNS; i++) {
    const t = performance.now();
    const child = new Deno.Command(argv[0], {
      args: argv.slice(1),
      stdin: "piped",
      stdout: "piped",
      stderr: "null",
    })
      .spawn();
    const w = child.stdin.getWriter();
    await w.write(new TextEncoder().encode(stdinOf(changing ? i % 100 : 63)));
    await w.close();
    const o = await child.output();
    lat.push(performance.now() - t);
    out = new TextDecoder().decode(o.stdout).trim();
  }
  return { lat, out };
}

const daemon = await startDaemon({ env: { STRATAVORE_LOG_LEVEL: "warn" } });
const dir = await Deno.makeTempDir();
try {
  const { admin, runnerId, token } = await startedRunner(daemon);
  const base = {
    url: daemon.url,
    runnerId,
    token,
    account: { key: `config:${dir}`, kind: "config_dir", label: dir },
  };
  await Deno.writeTextFile(`${dir}/wrap.json`, JSON.stringify({ ...base, command: USER_COMMAND }));
  await Deno.writeTextFile(`${dir}/own.json`, JSON.stringify(base));

  const baseline = await timed(["sh", "-c", USER_COMMAND]);
  const cpu0 = cpuSecondsOf(daemon.pid) ?? 0;
  const reporting = await timed(statuslineArgv(`${dir}/wrap.json`), true);
  const daemonCpuMs = ((cpuSecondsOf(daemon.pid) ?? 0) - cpu0) * 1000 / RUNS;
  const wrapped = await timed(statuslineArgv(`${dir}/wrap.json`));
  const own = await timed(statuslineArgv(`${dir}/own.json`));
  const bare = await timed([Deno.execPath(), "eval", ""]);
  if (wrapped.out !== baseline.out) throw new Error(`the wrapped output differs: ${wrapped.out}`);
  const samples = await admin.limitHistory({ account: base.account.key });
  if (samples.samples.length === 0) throw new Error("no report reached the daemon");

  const rows = [
    ["the user's statusline alone (baseline)", baseline.lat],
    ["Stratavore's, wrapping it, figures changed (a report each time)", reporting.lat],
    ["Stratavore's, wrapping it, figures unchanged (no report)", wrapped.lat],
    ["Stratavore's own line (no statusline of the user's)", own.lat],
    ["a bare Deno start (floor)", bare.lat],
  ] as const;
  const p50 = (l: readonly number[]) => summarize([...l]).p50;
  console.log([
    `one statusline update (${RUNS} runs each; output of the wrapped one: "${wrapped.out}")`,
    table(
      ["command", "p50", "p99"],
      rows.map(([label, l]) => {
        const s = summarize([...l]);
        return [label, ms(s.p50), ms(s.p99)];
      }),
    ),
    `at p50, against the baseline: ${(p50(reporting.lat) / p50(baseline.lat)).toFixed(1)}x with a report ` +
    `(+${ms(p50(reporting.lat) - p50(baseline.lat))}), ${
      (p50(wrapped.lat) / p50(baseline.lat)).toFixed(1)
    }x ` +
    `without (+${ms(p50(wrapped.lat) - p50(baseline.lat))}); daemon CPU per report: ${ms(daemonCpuMs)}`,
  ].join("\n"));
} finally {
  await daemon.stop();
  await Deno.remove(dir, { recursive: true }).catch(() => {});
}
