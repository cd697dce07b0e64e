/**
 * How values read in the CLI: token counts, bytes, ages and spans (lib/format.ts, shared with the web), runner
 * states with their colours, and heartbeat ages that turn yellow then red as they near the TTL.
 */
import { isClaude } from "../../lib/claude/command.ts";
import { formatAge as ageText, formatBytes as sizeText, formatCount, formatSpan } from "../../lib/format.ts";
import { isActive } from "../../lib/runner_states.ts";
import type { Activity, Runner, RunnerState } from "../../lib/schemas/runner.ts";
import { type Colour, paint } from "./ansi.ts";
import { tokenTotal } from "../../lib/tokens.ts";

export { formatCount, formatSpan };

/**
 * The clock ages are measured against. STRATAVORE_CLI_NOW (an ISO time) fixes it, so tests and
 * documentation can show reproducible tables.
 */
export function now(): number {
  const fixed = Deno.env.get("STRATAVORE_CLI_NOW");
  const t = fixed ? Date.parse(fixed) : NaN;
  return Number.isFinite(t) ? t : Date.now();
}

/** 512 B, 45.7 MiB, 1.2 GiB (lib/format.ts, as the web shows them); "-" when unknown. */
export function formatBytes(n: number | null): string {
  return n === null || !Number.isFinite(n) ? "-" : sizeText(n);
}

/** How long ago an ISO time was: "3m12s ago"; "-" when there is none. */
export function formatAge(iso: string | null, at = now()): string {
  return ageText(iso, at);
}

export const STATE_COLOURS: Record<RunnerState, Colour> = {
  starting: "yellow",
  running: "green",
  stopping: "yellow",
  stopped: "gray",
  failed: "red",
  killed: "magenta",
};

const ACTIVITY_TEXT: Record<Activity, string> = {
  busy: "busy",
  idle: "idle",
  waiting_for_input: "waiting for input",
  error: "error",
  compacting: "compacting",
  ended: "session ended",
};

/**
 * "running (waiting for input)" while a session reports its activity; "running (limited until 14:05 UTC)"
 * while the usage limit holds it; the bare state otherwise.
 */
export function stateText(r: Pick<Runner, "state" | "activity"> & { limitedUntil?: string | null }): string {
  if (r.state === "running" && r.limitedUntil && Date.parse(r.limitedUntil) > now()) {
    return `running (limited until ${r.limitedUntil.slice(11, 16)} UTC)`;
  }
  return r.state === "running" && r.activity ? `running (${ACTIVITY_TEXT[r.activity]})` : r.state;
}

export function paintState(
  r: Pick<Runner, "state" | "activity"> & { limitedUntil?: string | null },
  color: boolean,
): string {
  // A session waiting for its user, or whose turn failed, stands out from the running ones.
  const colour = r.state === "running" && r.activity === "waiting_for_input"
    ? "yellow"
    : r.state === "running" && r.activity === "error"
    ? "red"
    : STATE_COLOURS[r.state];
  return paint(stateText(r), colour, color);
}

/**
 * The last heartbeat's age, yellow from half the TTL and red from 80 % of it (the reconciler fails the
 * runner at the TTL). Ended runners show it dimmed: nobody is expected to beat any more.
 */
export function heartbeatCell(
  r: Pick<Runner, "state" | "lastHeartbeatAt">,
  ttlMs: number,
  color: boolean,
  at = now(),
): string {
  if (!r.lastHeartbeatAt) return "-";
  const age = at - Date.parse(r.lastHeartbeatAt);
  const text = formatAge(r.lastHeartbeatAt, at);
  if (!isActive(r.state)) return paint(text, "gray", color);
  return paint(text, age >= ttlMs * 0.8 ? "red" : age >= ttlMs * 0.5 ? "yellow" : undefined, color);
}

/** How long a runner has been running, or ran: from its start to now, or to its end. */
export function uptime(r: Pick<Runner, "startedAt" | "endedAt">, at = now()): string {
  if (!r.startedAt) return "-";
  const end = r.endedAt ? Date.parse(r.endedAt) : at;
  return formatSpan(end - Date.parse(r.startedAt));
}

/** The tokens cell: "n/a" for commands other than claude, whose usage Stratavore cannot read. */
export function tokensCell(r: Pick<Runner, "command" | "tokens">): string {
  return isClaude(r.command) ? formatCount(tokenTotal(r.tokens)) : "n/a";
}

/** Quotes a word for a POSIX shell only when it needs it. */
export function shellQuote(word: string): string {
  if (/^[A-Za-z0-9_@%+=:,./-]+$/.test(word)) return word;
  if (word.includes("'") && !/["$`\\!]/.test(word)) return `"${word}"`;
  return `'${word.replaceAll("'", `'\\''`)}'`;
}

/** `key: value` lines with the values aligned, keys dimmed on a terminal. */
export function renderFields(rows: [string, string][], color: boolean): string {
  const w = Math.max(0, ...rows.map(([k]) => k.length)) + 1;
  return rows.map(([k, v]) => `${paint(`${k}:`.padEnd(w), "dim", color)} ${v}`.trimEnd()).join("\n");
}

export function printJson(value: unknown): void {
  console.log(JSON.stringify(value, null, 2));
}
