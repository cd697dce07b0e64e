/**
 * Claude Code's subscription limits, as it reports them (checked on the real 2.1.328, see
 * ../shared/CLAUDE-CODE.md): a headless run's `rate_limit_event` (fractions, epoch seconds, a status per
 * window), the statusline's stdin `rate_limits` (percent and epoch seconds, no status), and a request
 * refused for the limit (the result's `api_error: "usage_limit_reached"`, StopFailure's `rate_limit`).
 * Also which account a session's windows belong to: the Claude login in its config folder, else the folder.
 */
import type { AccountRef, LimitsReport, WindowReport } from "../schemas/limits.ts";
import { readOauthAccount } from "./state_file.ts";

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
  const given = (env.CLAUDE_CONFIG_DIR ?? "").split(",")[0].trim().replace(/[\\/]+$/, "") || undefined;
  // ~/.claude named explicitly is the default folder: its state file is still ~/.claude.json.
  const configDir = given === join(home, ".claude") ? undefined : given;
  // No state file yet (or no login in it): the folder it will be in.
  const acct = await readOauthAccount(claudeStateFile(configDir, home));
  const id = acct && typeof acct.accountUuid === "string" && acct.accountUuid ? acct.accountUuid : undefined;
  if (id) {
    const email = typeof acct!.emailAddress === "string" ? acct!.emailAddress : id;
    return { key: `account:${id.slice(0, 200)}`, kind: "account", label: email.slice(0, 4096) };
  }
  const folder = configDir ?? join(home, ".claude");
  return { key: `config:${folder.slice(0, 4096)}`, kind: "config_dir", label: folder.slice(0, 4096) };
}

export interface Refusal {
  window: "five_hour" | "seven_day";
  /** Epoch seconds. */
  resetsAt: number;
}

/**
 * The refusal a turn's transcript records: Claude Code writes the refused request's line with
 * `apiErrorParams.rate_limit_info` (and `quotaLimits`): the window and its exact reset. The last one wins.
 */
export function refusalInTranscript(tail: string): Refusal | undefined {
  const lines = tail.split("\n");
  for (let i = lines.length - 1; i >= 0; i--) {
    const line = lines[i];
    if (!line.includes("rate_limit_info") && !line.includes("quotaLimits")) continue;
    let ev: unknown;
    try {
      ev = JSON.parse(line);
    } catch {
      continue;
    }
    if (!isObj(ev)) continue;
    const params = isObj(ev.apiErrorParams) ? ev.apiErrorParams : {};
    const info = isObj(params.rate_limit_info)
      ? params.rate_limit_info
      : isObj(ev.quotaLimits)
      ? ev.quotaLimits
      : undefined;
    const resetsAt = epoch(info?.resetsAt);
    const window = info?.rateLimitType;
    if (resetsAt !== undefined && (window === "five_hour" || window === "seven_day")) {
      return { window, resetsAt };
    }
  }
  return undefined;
}

/**
 * The refusal as Claude Code words it ("You've hit your 5-hour limit · resets 4:37am (UTC)"), when it shows
 * the time in UTC: the next such time from `now`. Other time zones are not guessed.
 */
export function refusalInMessage(message: unknown, now = Date.now()): Refusal | undefined {
  if (typeof message !== "string") return undefined;
  const m =
    /hit your (5-hour|weekly|session|7-day)[^·]*·\s*resets\s+(\d{1,2})(?::(\d{2}))?\s*(am|pm)\s*\(UTC\)/i
      .exec(message);
  if (!m) return undefined;
  let hour = Number(m[2]) % 12;
  if (m[4].toLowerCase() === "pm") hour += 12;
  const d = new Date(now);
  let at = Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), d.getUTCDate(), hour, Number(m[3] ?? 0));
  while (at <= now) at += 86_400_000;
  return { window: /weekly|7-day/i.test(m[1]) ? "seven_day" : "five_hour", resetsAt: Math.round(at / 1000) };
}

/** The last `bytes` of a file as text; undefined when it cannot be read (another machine's session). */
export async function readTail(path: string, bytes = 256 * 1024): Promise<string | undefined> {
  try {
    const f = await Deno.open(path, { read: true });
    try {
      const size = (await f.stat()).size;
      const start = Math.max(0, size - bytes);
      await f.seek(start, Deno.SeekMode.Start);
      const buf = new Uint8Array(size - start);
      let off = 0;
      while (off < buf.length) {
        const n = await f.read(buf.subarray(off));
        if (n === null) break;
        off += n;
      }
      return new TextDecoder().decode(buf.subarray(0, off));
    } finally {
      f.close();
    }
  } catch {
    return undefined;
  }
}

/** `<config>/projects/<folder>/<session>.jsonl` → `<config>`. */
export function configDirOfTranscript(path: string): string | undefined {
  const parts = path.split(/[\\/]/);
  const i = parts.lastIndexOf("projects");
  return i > 0 && i === parts.length - 3
    ? parts.slice(0, i).join(path.includes("\\") ? "\\" : "/")
    : undefined;
}
