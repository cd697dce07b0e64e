/**
 * Subscription limits: the latest figures of every account's 5-hour and weekly windows (limit_windows),
 * their history (limit_samples), threshold warnings once per window, and runners stopped by the limit.
 */
import type { Queryable } from "../../lib/db/types.ts";
import {
  LIMIT_WINDOWS,
  type LimitAccount,
  type LimitsReport,
  type LimitWindow,
  type LimitWindowName,
} from "../../lib/schemas/limits.ts";
import { emit } from "./outbox.ts";
import { getRunner } from "./runners.ts";

interface WindowRow {
  account_key: string;
  account_kind: "account" | "config_dir";
  label: string;
  window_name: LimitWindowName;
  utilization: number;
  resets_at: Date | null;
  status: string | null;
  source: string;
  runner_id: number | null;
  session_id: string | null;
  updated_at: Date;
  alerted_percent: number;
  alerted_reset: Date | null;
  reached_reset: Date | null;
}

/** A sample is kept when a figure changes, else at most this often. */
const SAMPLE_EVERY_MS = 60_000;

export const WINDOW_TEXT: Record<LimitWindowName, string> = { five_hour: "5-hour", seven_day: "weekly" };

/**
 * The window refuses requests now: Claude Code said rejected, or (the statusline says no status) it is used
 * up; and its reset is still ahead.
 */
export function isLimited(
  w: { status: string | null; resets_at: Date | null; utilization?: number },
  now: number,
): boolean {
  const refusing = w.status === "rejected" || (w.status === null && (w.utilization ?? 0) >= 1);
  return refusing && (w.resets_at === null || w.resets_at.getTime() > now);
}

/** Utilisation that counts now: a window whose reset has passed starts again from nothing. */
export function currentUtilization(w: { utilization: number; resets_at: Date | null }, now: number): number {
  return w.resets_at !== null && w.resets_at.getTime() <= now ? 0 : w.utilization;
}

export interface RecordOptions {
  runnerId?: number;
  /** Warning thresholds in percent (config limitAlerts). */
  thresholds: number[];
  now?: number;
}

export interface Recorded {
  warnings: number;
  reached: boolean;
  limitedUntil: Date | null;
}

/**
 * Books one report: each window's latest figures, a history sample when they changed, `limits.warning` at
 * each threshold crossed (once per window: the marks start again when the window resets), `limits.reached`
 * once when a window refuses, and the reporting runner marked limited (`runner.limited`) until the reset.
 */
/**
 * A hook's reset may come from Claude Code's words ("resets 5:17am (UTC)"): minute precision. A reset already
 * known to the second within that minute (from the stream or the statusline) is the same one, told exactly:
 * it is kept, whichever report arrived first.
 */
function exactReset(report: LimitsReport, told: Date, prev: WindowRow | undefined): Date {
  const known = prev?.resets_at;
  if (report.source !== "hook" || !known || told.getTime() % 60_000 !== 0) return told;
  const ahead = known.getTime() - told.getTime();
  return ahead > 0 && ahead < 60_000 ? known : told;
}

export async function recordLimits(tx: Queryable, report: LimitsReport, o: RecordOptions): Promise<Recorded> {
  const now = o.now ?? Date.now();
  const out: Recorded = { warnings: 0, reached: false, limitedUntil: null };
  // One report of an account at a time: a headless run's stream and its StopFailure hook arrive together, and
  // before the account's first row exists FOR UPDATE has nothing to lock, so on PostgreSQL the hook's
  // minute-precision reset could be written over the exact one it should yield to (exactReset).
  await tx.query("SELECT pg_advisory_xact_lock(hashtext('stratavore.limits'), hashtext($1))", [
    report.account.key,
  ]);
  const project = o.runnerId ? (await getRunner(tx, o.runnerId)).project : null;
  for (const name of LIMIT_WINDOWS) {
    const w = report.windows[name];
    if (!w) continue;
    const status = w.status ?? (report.representative === name ? report.status : undefined) ?? null;
    const [prev] = await tx.query<WindowRow>(
      "SELECT * FROM limit_windows WHERE account_key = $1 AND window_name = $2 FOR UPDATE",
      [report.account.key, name],
    );
    const resetsAt = w.resetsAt !== null ? exactReset(report, new Date(w.resetsAt * 1000), prev) : null;
    // A window that reset since the last alert starts its marks again.
    const fresh = !prev || (prev.alerted_reset !== null && prev.alerted_reset.getTime() <= now);
    let alerted = fresh ? 0 : prev.alerted_percent;
    let alertedReset = fresh ? resetsAt : prev.alerted_reset ?? resetsAt;
    const percent = w.utilization * 100;
    const crossed = o.thresholds.filter((t) => percent >= t && t > alerted);
    const top = crossed.at(-1);
    let reachedReset = prev?.reached_reset ?? null;
    const limited = isLimited({ status, resets_at: resetsAt, utilization: w.utilization }, now);
    const announceReached = limited && (reachedReset === null || reachedReset.getTime() <= now);
    if (announceReached) reachedReset = resetsAt ?? new Date(now + 3600_000);
    if (top !== undefined) {
      alerted = top;
      alertedReset = resetsAt;
    }
    await tx.query(
      `INSERT INTO limit_windows (account_key, account_kind, label, window_name, utilization, resets_at, status,
         source, runner_id, session_id, updated_at, alerted_percent, alerted_reset, reached_reset)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)
       ON CONFLICT (account_key, window_name) DO UPDATE SET
         account_kind = EXCLUDED.account_kind, label = EXCLUDED.label, utilization = EXCLUDED.utilization,
         resets_at = EXCLUDED.resets_at,
         -- The statusline says no status: keep the last one said for the same window.
         status = CASE WHEN EXCLUDED.status IS NULL AND limit_windows.resets_at IS NOT DISTINCT FROM EXCLUDED.resets_at
                       THEN limit_windows.status ELSE EXCLUDED.status END,
         source = EXCLUDED.source, runner_id = EXCLUDED.runner_id, session_id = EXCLUDED.session_id,
         updated_at = EXCLUDED.updated_at, alerted_percent = EXCLUDED.alerted_percent,
         alerted_reset = EXCLUDED.alerted_reset, reached_reset = EXCLUDED.reached_reset`,
      [
        report.account.key,
        report.account.kind,
        report.account.label,
        name,
        w.utilization,
        resetsAt,
        status,
        report.source,
        o.runnerId ?? null,
        report.sessionId ?? null,
        new Date(now),
        alerted,
        alertedReset,
        reachedReset,
      ],
    );
    const changed = !prev || prev.utilization !== w.utilization || prev.status !== status ||
      prev.resets_at?.getTime() !== resetsAt?.getTime();
    if (changed || now - prev.updated_at.getTime() >= SAMPLE_EVERY_MS) {
      await tx.query(
        `INSERT INTO limit_samples (account_key, window_name, at, utilization, resets_at, status)
         VALUES ($1, $2, $3, $4, $5, $6)`,
        [report.account.key, name, new Date(now), w.utilization, resetsAt, status],
      );
    }
    const base = {
      account: report.account.key,
      accountKind: report.account.kind,
      label: report.account.label,
      window: name,
      windowText: WINDOW_TEXT[name],
      percent: Math.round(percent),
      resetsAt: resetsAt?.toISOString() ?? null,
      runnerId: o.runnerId ?? null,
    };
    if (top !== undefined) {
      out.warnings++;
      await emit(tx, {
        type: "limits.warning",
        entityId: report.account.key,
        project,
        payload: { ...base, threshold: top },
      });
    }
    if (announceReached) {
      out.reached = true;
      await emit(tx, { type: "limits.reached", entityId: report.account.key, project, payload: base });
    }
    if (limited && o.runnerId) {
      const until = resetsAt ?? new Date(now + 3600_000);
      if (!out.limitedUntil || until > out.limitedUntil) out.limitedUntil = until;
      await markLimited(tx, o.runnerId, until, name, report.account.key);
    }
  }
  if (o.runnerId) {
    await tx.query(
      `UPDATE runners SET limit_account = $2, auto_continue = coalesce($3, auto_continue) WHERE id = $1`,
      [o.runnerId, report.account.key, report.autoContinue ?? null],
    );
  }
  return out;
}

/** The runner is stopped by the limit until `until`: recorded once per reset, with its event. */
export async function markLimited(
  tx: Queryable,
  runnerId: number,
  until: Date,
  window: LimitWindowName,
  account: string | null,
): Promise<boolean> {
  const [row] = await tx.query<{ limited_until: Date | null }>(
    "SELECT limited_until FROM runners WHERE id = $1 FOR UPDATE",
    [runnerId],
  );
  if (!row || row.limited_until?.getTime() === until.getTime()) return false;
  await tx.query(
    `UPDATE runners SET limited_until = $2, limited_window = $3, limit_account = coalesce($4, limit_account),
       updated_at = now() WHERE id = $1`,
    [runnerId, until, window, account],
  );
  const runner = await getRunner(tx, runnerId);
  await emit(tx, {
    type: "runner.limited",
    entityId: runnerId,
    project: runner.project,
    payload: { runner, limitedUntil: until.toISOString(), window, windowText: WINDOW_TEXT[window], account },
  });
  return true;
}

/**
 * A turn refused for the limit without the window's figures (an interactive session's StopFailure): the
 * runner is limited until the reset of its account's fullest window, if one is known.
 */
export async function markLimitedByHook(tx: Queryable, runnerId: number, now = Date.now()): Promise<boolean> {
  const [r] = await tx.query<{ limit_account: string | null }>(
    "SELECT limit_account FROM runners WHERE id = $1",
    [runnerId],
  );
  const rows = r?.limit_account
    ? await tx.query<WindowRow>("SELECT * FROM limit_windows WHERE account_key = $1", [r.limit_account])
    : [];
  const ahead = rows.filter((w) => w.resets_at !== null && w.resets_at.getTime() > now);
  const w = ahead.find((x) => x.status === "rejected") ??
    ahead.sort((a, b) => b.utilization - a.utilization)[0];
  if (!w) return false;
  return await markLimited(tx, runnerId, w.resets_at!, w.window_name, w.account_key);
}

function toWindow(w: WindowRow, now: number): LimitWindow {
  const utilization = currentUtilization(w, now);
  return {
    window: w.window_name,
    utilization,
    percent: Math.round(utilization * 100),
    resetsAt: w.resets_at?.toISOString() ?? null,
    secondsToReset: w.resets_at ? Math.max(0, Math.round((w.resets_at.getTime() - now) / 1000)) : null,
    status: w.resets_at !== null && w.resets_at.getTime() <= now ? "reset" : w.status,
    limited: isLimited(w, now),
    source: w.source,
    updatedAt: w.updated_at.toISOString(),
  };
}

/** Every account's windows, latest figures (a window past its reset reads 0 %). */
export async function listLimits(q: Queryable, now = Date.now()): Promise<LimitAccount[]> {
  const rows = await q.query<WindowRow>("SELECT * FROM limit_windows ORDER BY account_key, window_name");
  const by = new Map<string, LimitAccount>();
  for (const r of rows) {
    let a = by.get(r.account_key);
    if (!a) {
      a = { key: r.account_key, kind: r.account_kind, label: r.label, windows: [], limitedUntil: null };
      by.set(r.account_key, a);
    }
    a.windows.push(toWindow(r, now));
    if (isLimited(r, now) && r.resets_at) {
      const until = r.resets_at.toISOString();
      if (!a.limitedUntil || until > a.limitedUntil) a.limitedUntil = until;
    }
  }
  return [...by.values()];
}

export async function limitHistory(
  q: Queryable,
  account: string,
  window: LimitWindowName,
  sinceMs: number,
): Promise<{ at: string; utilization: number; resetsAt: string | null; status: string | null }[]> {
  const rows = await q.query<
    { at: Date; utilization: number; resets_at: Date | null; status: string | null }
  >(
    `SELECT at, utilization, resets_at, status FROM limit_samples
     WHERE account_key = $1 AND window_name = $2 AND at >= $3 ORDER BY at LIMIT 5000`,
    [account, window, new Date(sinceMs)],
  );
  return rows.map((r) => ({
    at: r.at.toISOString(),
    utilization: r.utilization,
    resetsAt: r.resets_at?.toISOString() ?? null,
    status: r.status,
  }));
}
