/**
 * The statusline command Stratavore sets for the sessions it starts (`stratavore statusline <file>`):
 * Claude Code runs it with the session's state as JSON on stdin. It reports the subscription windows in it
 * to the daemon, and prints exactly what the user's own statusline prints for the same stdin (or, when the
 * user has none, a short line of its own). It imports nothing heavy: it runs after every turn.
 */
import { accountOf, fromStatusline } from "../lib/claude/limits.ts";
import { formatSpan } from "../lib/format.ts";
import type { AccountRef } from "../lib/schemas/limits.ts";

/** What the agent writes for it (mode 0600: it holds the runner's token). */
export interface StatuslineConfig {
  url: string;
  /** The runner whose session this is; absent for observed sessions (the observer token). */
  runnerId?: number;
  token: string;
  /** Absent for observed sessions: the session's own Claude config tells (its environment). */
  account?: AccountRef;
  /** The user's own statusline command. */
  command?: string;
  autoContinue?: boolean;
}

/**
 * A daemon on the same machine answers in milliseconds, but a loaded one (PGlite on a busy laptop) can take
 * seconds, and a report dropped here is missing until Claude Code runs the statusline again, after the next
 * turn. The line is printed as soon as it is ready, so only this process's exit waits for the answer.
 */
const REPORT_TIMEOUT_MS = 5000;
const USER_TIMEOUT_MS = 10_000;

async function runUserCommand(command: string, stdin: string, cwd: string | undefined): Promise<string> {
  const argv = Deno.build.os === "windows" ? ["cmd", "/d", "/s", "/c", command] : ["sh", "-c", command];
  const child = new Deno.Command(argv[0], {
    args: argv.slice(1),
    cwd,
    stdin: "piped",
    stdout: "piped",
    stderr: "null",
  }).spawn();
  const timer = setTimeout(() => {
    try {
      child.kill("SIGKILL");
    } catch { /* ended */ }
  }, USER_TIMEOUT_MS);
  try {
    const w = child.stdin.getWriter();
    await w.write(new TextEncoder().encode(stdin)).catch(() => {});
    await w.close().catch(() => {});
    const out = await child.output();
    return new TextDecoder().decode(out.stdout);
  } finally {
    clearTimeout(timer);
  }
}

function pct(w: { utilization: number } | undefined): string | undefined {
  return w ? `${Math.round(w.utilization * 100)}%` : undefined;
}

/** Ours, when the user has none: the model, the cost, and the windows. */
export function ownLine(input: Record<string, unknown>, now = Date.now()): string {
  const model = (input.model as Record<string, unknown> | undefined)?.display_name;
  const cost = (input.cost as Record<string, unknown> | undefined)?.total_cost_usd;
  const parts: string[] = [];
  if (typeof model === "string") parts.push(model);
  if (typeof cost === "number") parts.push(`$${cost.toFixed(2)}`);
  const limits = fromStatusline(input);
  const five = limits?.windows.five_hour;
  if (five) {
    const resets = five.resetsAt ? ` (resets in ${formatSpan(five.resetsAt * 1000 - now)})` : "";
    parts.push(`5h ${pct(five)}${resets}`);
  }
  const seven = pct(limits?.windows.seven_day);
  if (seven) parts.push(`7d ${seven}`);
  return parts.join(" · ");
}

/** The same figures are sent again only after this long (Claude Code runs the statusline after every turn). */
const RESEND_MS = 60_000;

async function report(cfg: StatuslineConfig, input: unknown, configFile: string): Promise<void> {
  const figures = fromStatusline(input);
  if (!figures) return;
  const account = cfg.account ??
    await accountOf(Deno.env.toObject(), Deno.env.get("HOME") ?? Deno.env.get("USERPROFILE") ?? ".");
  // What was last sent, beside the config (the run's private folder): unchanged figures are not sent again.
  const seenFile = `${configFile}.last`;
  const key = JSON.stringify(figures);
  try {
    const seen = await Deno.stat(seenFile);
    if (Date.now() - (seen.mtime?.getTime() ?? 0) < RESEND_MS && await Deno.readTextFile(seenFile) === key) {
      return;
    }
  } catch { /* nothing sent yet */ }
  const path = cfg.runnerId ? `/api/v1/runners/${cfg.runnerId}/limits` : "/api/v1/observed/limits";
  try {
    const res = await fetch(`${cfg.url.replace(/\/+$/, "")}${path}`, {
      method: "POST",
      headers: {
        authorization: `Bearer ${cfg.token}`,
        "content-type": "application/json",
        // A session a runner started (its own --settings were the user's): its runner reports it.
        ...(cfg.runnerId ? {} : { "x-stratavore-runner": Deno.env.get("STRATAVORE_RUNNER_ID") ?? "" }),
      },
      body: JSON.stringify({
        source: "statusline",
        account,
        ...figures,
        ...(cfg.autoContinue !== undefined ? { autoContinue: cfg.autoContinue } : {}),
      }),
      signal: AbortSignal.timeout(REPORT_TIMEOUT_MS),
    });
    await res.body?.cancel();
    if (res.ok) await Deno.writeTextFile(seenFile, key, { mode: 0o600 }).catch(() => {});
  } catch { /* the daemon is away: the statusline still shows */ }
}

export async function runStatusline(configFile: string): Promise<number> {
  const stdin = await new Response(Deno.stdin.readable).text();
  let cfg: StatuslineConfig | undefined;
  try {
    cfg = JSON.parse(await Deno.readTextFile(configFile));
  } catch { /* no config: print what we can */ }
  let input: Record<string, unknown> = {};
  try {
    input = JSON.parse(stdin);
  } catch { /* not JSON: nothing to report */ }
  const cwd = typeof input.cwd === "string" ? input.cwd : undefined;
  const reported = cfg ? report(cfg, input, configFile) : Promise.resolve();
  const out = cfg?.command
    ? await runUserCommand(cfg.command, stdin, cwd).catch(() => "")
    : ownLine(input) + "\n";
  await Deno.stdout.write(new TextEncoder().encode(out));
  await reported;
  return 0;
}

if (import.meta.main) Deno.exit(await runStatusline(Deno.args[0] ?? ""));
