/**
 * Claude Code's hooks: what one costs, and how soon a permission dialog is "waiting for input".
 * 1. One hook event: an http hook POSTed to the daemon (what Stratavore registers now) and the SessionStart
 *    command (a shell `cat` appending to a file), beside a bare Deno start in the same run (the floor of
 *    the old path, which started `deno run main.ts hook <event>` per event).
 * 2. The real Claude Code, interactive in tmux against the Messages API stand-in: from the moment its
 *    permission dialog is on screen to the moment the API and the event stream say "waiting for input"
 *    (negative: Stratavore knew first). Median of several dialogs.
 *   deno run -A bench/hooks.ts [--hooks 200] [--dialogs 5]
 */
import { StratavoreClient } from "../lib/client.ts";
import { startDaemon } from "../tests/helpers/daemon.ts";
import { startTmux } from "../tests/helpers/tmux.ts";
import { MAIN } from "../tests/helpers/env.ts";
import { tapEvents } from "../tests/web/events_tap.ts";
import { CLAUDE_BIN_DIR, claudeEnv, ensureClaudeCode, prepareConfigDir } from "../tests/real/claude_code.ts";
import { MessagesApi } from "../tests/real/messages_api.ts";
import { sessionStartCommand } from "../lib/claude/hooks.ts";
import { cpuSecondsOf, ms, startedRunner, summarize, table } from "./lib.ts";

const args = Deno.args.join(" ");
const HOOKS = Number(/--hooks[ =](\d+)/.exec(args)?.[1] ?? 200);
const DIALOGS = Number(/--dialogs[ =](\d+)/.exec(args)?.[1] ?? 5);
const HOOK_JSON = JSON.stringify({
  session_id: "bench-session",
  transcript_path: "/tmp/none.jsonl",
  cwd: "/tmp",
  hook_event_name: "Stop",
});

async function timed(n: number, op: () => Promise<void>): Promise<number[]> {
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    const t = performance.now();
    await op();
    out.push(performance.now() - t);
  }
  return out;
}

async function run(cmd: string, args: string[], stdin: string): Promise<void> {
  const child = new Deno.Command(cmd, { args, stdin: "piped", stdout: "null", stderr: "null" }).spawn();
  const w = child.stdin.getWriter();
  await w.write(new TextEncoder().encode(stdin));
  await w.close();
  await child.status;
}

async function hookCost(): Promise<string> {
  const daemon = await startDaemon({ env: { STRATAVORE_LOG_LEVEL: "warn" } });
  const dir = await Deno.makeTempDir();
  try {
    const { runnerId, token } = await startedRunner(daemon);
    const url = `${daemon.url}/api/v1/runners/${runnerId}/claude-hook`;
    const headers = { authorization: `Bearer ${token}`, "content-type": "application/json" };
    const cpu0 = cpuSecondsOf(daemon.pid) ?? 0;
    const http = await timed(HOOKS, async () => {
      const res = await fetch(url, { method: "POST", headers, body: HOOK_JSON });
      await res.arrayBuffer();
      if (!res.ok) throw new Error(`HTTP ${res.status}`);
    });
    const daemonCpuMs = ((cpuSecondsOf(daemon.pid) ?? 0) - cpu0) * 1000 / HOOKS;
    const n = Math.min(HOOKS, 30);
    const shell = await timed(
      n,
      () => run("sh", ["-c", sessionStartCommand(`${dir}/events.jsonl`)], HOOK_JSON),
    );
    const denoStart = await timed(n, () => run(Deno.execPath(), ["eval", ""], HOOK_JSON));
    const rows = [
      ["http hook POST to the daemon (every event but SessionStart)", http],
      ["SessionStart command (sh: cat >> file)", shell],
      ["bare Deno start (the floor of the old per-event `stratavore hook`)", denoStart],
    ] as const;
    return [
      `one hook event (${HOOKS} http posts, ${n} process starts)`,
      table(
        ["path", "p50", "p99"],
        rows.map(([label, lat]) => {
          const s = summarize(lat);
          return [label, ms(s.p50), ms(s.p99)];
        }),
      ),
      `daemon CPU per http hook: ${ms(daemonCpuMs)}; an http hook is ${
        (summarize(denoStart).p50 / summarize(http).p50).toFixed(0)
      }x faster than a bare Deno start`,
    ].join("\n");
  } finally {
    await daemon.stop();
    await Deno.remove(dir, { recursive: true }).catch(() => {});
  }
}

async function dialogLatency(): Promise<string> {
  await ensureClaudeCode();
  const api = new MessagesApi().start();
  const daemon = await startDaemon({ env: { STRATAVORE_LOG_LEVEL: "warn" } });
  const home = daemon.home;
  const project = `${home}/work/bench`;
  await Deno.mkdir(project, { recursive: true });
  const configDir = `${home}/claude`;
  await prepareConfigDir(configDir, [project]);
  const client = new StratavoreClient({ url: daemon.url, token: daemon.token });
  await client.createProject({ name: "bench", path: project, approvals: "remote" });
  const tap = await tapEvents(daemon.url, daemon.token);
  const env = {
    ...claudeEnv({ apiUrl: api.url, configDir }),
    STRATAVORE_HOME: home,
    PATH: `${CLAUDE_BIN_DIR}:${Deno.env.get("PATH") ?? ""}`,
    HOME: Deno.env.get("HOME") ?? "/tmp",
    TERM: "xterm-256color",
  };
  const tmux = await startTmux(
    `'${Deno.execPath()}' run -A --quiet '${MAIN}' launch bench -- --model claude-sonnet-5-5 ` +
      `--permission-mode manual; sleep 30`,
    { env, cwd: project, cols: 140, rows: 45 },
  );
  const viaApi: number[] = [];
  const viaEvent: number[] = [];
  try {
    await tmux.waitFor(/manual mode on/, 60_000);
    const [runner] = await client.listRunners({ project: "bench" });
    api.fallback = (r) => (r.toolResult ? { text: "ok" } : {});
    for (let i = 0; i < DIALOGS; i++) {
      const marker = `dialog-${i}-${crypto.randomUUID()}`;
      api.routes.set(marker, {
        toolUse: { name: "Bash", input: { command: `touch f${i}`, description: "x" } },
      });
      await tmux.send("-l", `${marker} go`);
      await new Promise((r) => setTimeout(r, 800));
      await tmux.send("Enter");
      // The moment the dialog is on screen, and the moments Stratavore said "waiting for input".
      let dialogAt = 0;
      let apiAt = 0;
      const deadline = Date.now() + 30_000;
      while ((!dialogAt || !apiAt) && Date.now() < deadline) {
        if (!dialogAt && /Do you want to proceed\?/.test(await tmux.screen())) dialogAt = Date.now();
        if (!apiAt && (await client.getRunner(runner.id)).activity === "waiting_for_input") {
          apiAt = Date.now();
        }
        await new Promise((r) => setTimeout(r, 20));
      }
      viaApi.push(apiAt - dialogAt);
      // The stream tells the first arrival of each (type, runner): the first dialog's.
      if (i === 0) viaEvent.push(await tap.seen("runner.permission_requested", runner.id, 5000) - dialogAt);
      await client.answerPermission(runner.id, { decision: "deny", message: "bench" });
      await tmux.waitFor(/ok|❯/, 20_000);
      await new Promise((r) => setTimeout(r, 500));
    }
  } finally {
    tap.close();
    await tmux.kill();
    await daemon.stop();
    await api.close();
  }
  const s = summarize(viaApi);
  return [
    `permission dialog → "waiting for input" (real Claude Code, ${DIALOGS} dialogs; negative = before the dialog showed)`,
    `  through the API: median ${ms(s.p50)}, worst ${
      ms(s.max)
    } (target 1000 ms; the Notification hook took 6,400+ ms)`,
    `  first runner.permission_requested event on the stream: ${ms(viaEvent[0] ?? NaN)} after the dialog`,
  ].join("\n");
}

export async function benchHooks(): Promise<string> {
  return [await hookCost(), await dialogLatency()].join("\n\n");
}

if (import.meta.main) console.log(await benchHooks());
