/**
 * `deno task bench`: runs every benchmark (or those named: `deno task bench heartbeat`) and prints the
 * figures. Flags after the names go to the benchmarks (e.g. --seconds 5).
 */
const BENCHES: Record<string, string> = {
  heartbeat: "./heartbeat.ts",
  agent: "./agent.ts",
  events: "./events.ts",
  attach: "./attach.ts",
  cli: "./cli.ts",
  telemetry: "./telemetry.ts",
  "stop-kill": "./stop_kill.ts",
  hooks: "./hooks.ts",
  footprint: "./footprint.ts",
  statusline: "./statusline.ts",
  "test-daemon": "./test_daemon.ts",
};

const names = Deno.args.filter((a) => !a.startsWith("-") && a in BENCHES);
const passthrough = Deno.args.filter((a) => !names.includes(a));
const chosen = names.length ? names : Object.keys(BENCHES);

let failed = false;
for (const name of chosen) {
  console.log(`\n== ${name} ==`);
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", "--allow-all", new URL(BENCHES[name], import.meta.url).pathname, ...passthrough],
    stdout: "inherit",
    stderr: "inherit",
  }).output();
  if (!out.success) {
    console.log(`${name}: FAILED (exit ${out.code})`);
    failed = true;
  }
}
if (failed) Deno.exit(1);
