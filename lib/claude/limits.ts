/**
 * Claude Code's subscription limits, as it reports them (checked on the real 2.1.328, see
 * ../shared/CLAUDE-CODE.md): a headless run's `rate_limit_event` (fractions, epoch seconds, a status per
 * window), the statusline's stdin `rate_limits` (percent and epoch seconds, no status), and a request
 * refused for the limit (the result's `api_error: "usage_limit_reached"`, StopFailure's `rate_limit`).
 * Also which account a session's windows belong to: the Claude login in its config folder, else the folder.
 */
import type { AccountRef, LimitsReport, WindowReport } from "../schemas/limits.ts";

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === "object" && v !== null && !Array.isArray(v);
const num = (v: unknown) => (typeof v === "number" && Number.isFinite(v) ? v : undefined);
const str = (v: unknown) => (typeof v === "string" && /^[a-z_]{1,40}$/.test(v) ? v : undefined);
const epoch = (v: unknown) => {
  const n = num(v);
  return n !== undefined && n >= 0 && n < 32_503_680_000 ? Math.round(n) : undefined;
};

function window(v: unknown, scale: number): WindowReport | undefined {
  if (!isObj(v)) return undefined;
  const used = num(v.utilization) ??
    (num(v.used_percentage) !== undefined ? num(v.used_percentage)! / 100 : undefined);
  if (used === undefined || used < 0) return undefined;
  const status = str(v.status);
  return {
    utilization: Math.min(10, used * scale),
    resetsAt: epoch(v.resetsAt ?? v.resets_at) ?? null,
    ...(status ? { status } : {}),
  };
}

type Windows = LimitsReport["windows"];
type Partial = Omit<LimitsReport, "source" | "account">;

/** A stream-json `rate_limit_event` (headless runs). */
export function fromRateLimitEvent(ev: unknown): Partial | undefined {
  if (!isObj(ev) || ev.type !== "rate_limit_event" || !isObj(ev.rate_limit_info)) return undefined;
  const info = ev.rate_limit_info;
  const windows: Windows = {};
  const unified = isObj(info.unifiedWindows) ? info.unifiedWindows : {};
  const five = window(unified.five_hour, 1);
  const seven = window(unified.seven_day, 1);
  if (five) windows.five_hour = five;
  if (seven) windows.seven_day = seven;
  const rep = info.rateLimitType === "five_hour" || info.rateLimitType === "seven_day"
    ? info.rateLimitType
    : undefined;
  const status = str(info.status);
  const resetsAt = epoch(info.resetsAt);
  return {
    windows,
    ...(typeof ev.session_id === "string" && ev.session_id ? { sessionId: ev.session_id.slice(0, 200) } : {}),
    ...(status ? { status } : {}),
    ...(rep ? { representative: rep } : {}),
    ...(resetsAt !== undefined ? { resetsAt } : {}),
    ...(typeof info.isUsingOverage === "boolean" ? { usingOverage: info.isUsingOverage } : {}),
  };
}

/** The statusline's stdin (interactive sessions): undefined when it carries no `rate_limits` yet. */
export function fromStatusline(input: unknown): Partial | undefined {
  if (!isObj(input) || !isObj(input.rate_limits)) return undefined;
  const windows: Windows = {};
  const five = window(input.rate_limits.five_hour, 1);
  const seven = window(input.rate_limits.seven_day, 1);
  if (five) windows.five_hour = five;
  if (seven) windows.seven_day = seven;
  if (!five && !seven) return undefined;
  return {
    windows,
    ...(typeof input.session_id === "string" && input.session_id
      ? { sessionId: input.session_id.slice(0, 200) }
      : {}),
  };
}

/** A headless result (or an assistant error line) that says the request was refused for the usage limit. */
export function isLimitRefusal(ev: unknown): boolean {
  if (!isObj(ev)) return false;
  return ev.api_error === "usage_limit_reached" || ev.error === "rate_limit" && ev.api_error_status === 429;
}

/** StopFailure's `error` for a usage limit (Claude Code says `rate_limit`). */
export function isLimitError(error: unknown): boolean {
  const text = typeof error === "string"
    ? error
    : isObj(error)
    ? [error.type, error.error_type, error.message].filter((x) => typeof x === "string").join(" ")
    : "";
  return /rate_limit|usage[_ ]limit|hit your .*limit/i.test(text);
}

/** Joins path parts with the system's separator (no node:path: the statusline loads this, and is timed). */
function join(...parts: string[]): string {
  const sep = Deno.build.os === "windows" ? "\\" : "/";
  return parts.map((p, i) => (i === 0 ? p.replace(/[\\/]+$/, "") : p.replace(/^[\\/]+|[\\/]+$/g, "")))
    .join(sep);
}

/** Where Claude Code keeps its global state for a config folder (`.claude.json`). */
export function claudeStateFile(configDir: string | undefined, home: string): string {
  return configDir ? join(configDir, ".claude.json") : join(home, ".claude.json");
}

/**
 * The account a session's windows belong to: the Claude login Claude Code records (`oauthAccount`) in its
 * state file, else the config folder itself (sessions sharing a folder share a login).
 */
export async function accountOf(
  env: Record<string, string | undefined>,
  home: string,
): Promise<AccountRef> {
  const configDir = (env.CLAUDE_CONFIG_DIR ?? "").split(",")[0].trim() || undefined;
  try {
    const state = JSON.parse(await Deno.readTextFile(claudeStateFile(configDir, home)));
    const acct = isObj(state) && isObj(state.oauthAccount) ? state.oauthAccount : undefined;
    const id = acct && typeof acct.accountUuid === "string" && acct.accountUuid
      ? acct.accountUuid
      : undefined;
    if (id) {
      const email = typeof acct!.emailAddress === "string" ? acct!.emailAddress : id;
      return { key: `account:${id.slice(0, 200)}`, kind: "account", label: email.slice(0, 4096) };
    }
  } catch { /* no state file yet: the folder it will be in */ }
  const folder = configDir ?? join(home, ".claude");
  return { key: `config:${folder.slice(0, 4096)}`, kind: "config_dir", label: folder.slice(0, 4096) };
}
