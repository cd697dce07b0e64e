/**
 * The limits loop on both backends, with the agent's start stubbed: cut-off headless runs are queued once
 * and started after the reset, in order, staggered; the per-day cap and the off switch hold; a window that is
 * still refusing keeps entries waiting.
 */
import { assertEquals } from "../helpers/assert.ts";
import { eachBackend } from "../helpers/db.ts";
import type { Db } from "../../lib/db/types.ts";
import { loadConfig } from "../../lib/config.ts";
import { Logger } from "../../lib/log.ts";
import type { Services } from "../../daemon/services.ts";
import { limitPass } from "../../daemon/limits.ts";
import { createProject } from "../../daemon/store/projects.ts";
import { launchRunner } from "../../daemon/store/runners.ts";
import { recordLimits } from "../../daemon/store/limits.ts";

const ACCOUNT = { key: "config:/tmp/claude-q", kind: "config_dir" as const, label: "/tmp/claude-q" };

function services(db: Db, env: Record<string, string> = {}): Services {
  const { config } = loadConfig({ env: { HOME: "/tmp", ...env }, readFile: () => undefined });
  return {
    db,
    config,
    log: new Logger({
      level: "error",
      json: true,
      sink: { write() {}, isTerminal: () => false },
      secrets: new Set(),
    }),
    daemonId: "test",
    installation: "test",
    startedAt: new Date(),
    url: "http://127.0.0.1:1",
    host: "test",
    adminToken: "x".repeat(32),
    tokens: undefined as unknown as Services["tokens"],
    heartbeats: undefined as unknown as Services["heartbeats"],
    broker: { kind: "embedded", location: "in-process" },
    env: {},
  };
}

/** A headless run that ended, cut off by the limit until `until`. */
async function cutOff(db: Db, until: Date, session: string): Promise<number> {
  const { runner } = await db.transaction((tx) =>
    launchRunner(tx, { project: "q", prompt: "work", spawn: true, worktree: false })
  );
  await db.query(
    `UPDATE runners SET state = 'failed', ended_at = now(), session_id = $2, limited_until = $3,
       limited_window = 'five_hour', limit_account = $4 WHERE id = $1`,
    [runner.id, session, until, ACCOUNT.key],
  );
  return runner.id;
}

eachBackend("limits loop: resumes once each after the reset, staggered, capped per day", async ({ db }) => {
  await db.transaction((tx) => createProject(tx, { name: "q", path: "/tmp", maxRunners: 50 }));
  const s = services(db, { STRATAVORE_LIMIT_STAGGER: "30s", STRATAVORE_LIMIT_RESUME_PER_DAY: "2" });
  const spawned: number[] = [];
  const deps = {
    spawnAgent: (r: { id: number }) => Promise.resolve(void spawned.push(r.id)),
    admit: () => Promise.resolve(),
  };
  const t0 = Date.now();
  const reset = new Date(t0 + 60_000);
  // The account is refusing until the reset.
  await db.transaction((tx) =>
    recordLimits(tx, {
      source: "stream",
      account: ACCOUNT,
      windows: {
        five_hour: { utilization: 1, resetsAt: Math.floor(reset.getTime() / 1000), status: "rejected" },
      },
    }, { thresholds: [80, 95], now: t0 })
  );
  const a = await cutOff(db, reset, "s-a");
  const b = await cutOff(db, reset, "s-b");
  const c = await cutOff(db, reset, "s-c");

  // Before the reset: queued, nothing started.
  assertEquals(await limitPass(s, deps, t0 + 1000), undefined);
  const queued = await db.query<{ runner_id: number; status: string }>(
    "SELECT runner_id, status FROM limit_queue ORDER BY id",
  );
  assertEquals(queued.map((q) => [q.runner_id, q.status]), [[a, "waiting"], [b, "waiting"], [c, "waiting"]]);
  // Passes again queue nothing more (once per runner).
  await limitPass(s, deps, t0 + 2000);
  assertEquals((await db.query("SELECT id FROM limit_queue")).length, 3);

  // After the reset: one start per pass, 30 s apart, in order; the third is over the daily cap of 2.
  const first = await limitPass(s, deps, reset.getTime() + 1000);
  assertEquals(await limitPass(s, deps, reset.getTime() + 2000), undefined, "staggered");
  const second = await limitPass(s, deps, reset.getTime() + 31_500);
  assertEquals(await limitPass(s, deps, reset.getTime() + 63_000), undefined, "the daily cap");
  assertEquals(spawned, [first, second]);
  const rows = await db.query<{ id: number; resumed_from: number; args: string[]; prompt: string }>(
    "SELECT id, resumed_from, args, prompt FROM runners WHERE resumed_from IS NOT NULL ORDER BY id",
  );
  assertEquals(rows.map((r) => r.resumed_from), [a, b]);
  assertEquals(rows[0].args.slice(-2), ["--resume", "s-a"]);
  assertEquals(rows[0].prompt, s.config.limitResumeMessage);
  const after = await db.query<{ runner_id: number; status: string }>(
    "SELECT runner_id, status FROM limit_queue ORDER BY id",
  );
  assertEquals(after.map((q) => q.status), ["started", "started", "skipped"]);
});

eachBackend(
  "limits loop: with resuming off nothing is queued; a refusing window holds launches",
  async ({ db }) => {
    await db.transaction((tx) => createProject(tx, { name: "q", path: "/tmp" }));
    const off = services(db, { STRATAVORE_LIMIT_RESUME: "false", STRATAVORE_LIMIT_STAGGER: "0s" });
    const deps = { spawnAgent: () => Promise.resolve(), admit: () => Promise.resolve() };
    const t0 = Date.now();
    await cutOff(db, new Date(t0 - 1000), "s-x");
    assertEquals(await limitPass(off, deps, t0), undefined);
    assertEquals((await db.query("SELECT id FROM limit_queue")).length, 0);

    // A queued launch whose reset passed while a new report says the window refuses again: it waits.
    const reset2 = Math.floor(t0 / 1000) + 3600;
    await db.transaction((tx) =>
      recordLimits(tx, {
        source: "stream",
        account: ACCOUNT,
        windows: { five_hour: { utilization: 1, resetsAt: reset2, status: "rejected" } },
      }, { thresholds: [], now: t0 })
    );
    await db.query(
      `INSERT INTO limit_queue (kind, project_id, account_key, request, not_before)
     SELECT 'launch', id, $1, $2::jsonb, $3 FROM projects WHERE name = 'q'`,
      [ACCOUNT.key, { project: "q", prompt: "later", spawn: true, worktree: false }, new Date(t0 - 1000)],
    );
    assertEquals(await limitPass(off, deps, t0), undefined);
    const started = await limitPass(off, deps, reset2 * 1000 + 1000);
    assertEquals(typeof started, "number");
  },
);

eachBackend("limits: each threshold warns once per window, again in the next window", async ({ db }) => {
  const t0 = Date.now();
  const r1 = Math.floor(t0 / 1000) + 600;
  const report = (u: number, resetsAt: number) => ({
    source: "statusline" as const,
    account: ACCOUNT,
    windows: { five_hour: { utilization: u, resetsAt } },
  });
  const warn = (u: number, resetsAt: number, now: number) =>
    db.transaction((tx) => recordLimits(tx, report(u, resetsAt), { thresholds: [80, 95], now }));
  assertEquals((await warn(0.81, r1, t0)).warnings, 1);
  assertEquals(
    (await warn(0.85, r1 + 2, t0 + 1000)).warnings,
    0,
    "the same window, its reset a little moved",
  );
  assertEquals((await warn(0.99, r1, t0 + 2000)).warnings, 1);
  assertEquals((await warn(0.99, r1, t0 + 3000)).warnings, 0);
  // The window reset: the next one warns again.
  const r2 = r1 + 5 * 3600;
  assertEquals((await warn(0.9, r2, r1 * 1000 + 1000)).warnings, 1);
  const events = await db.query<{ payload: { threshold: number } }>(
    "SELECT payload FROM outbox WHERE type = 'limits.warning' ORDER BY id",
  );
  assertEquals(events.map((e) => e.payload.threshold), [80, 95, 80]);
});

eachBackend(
  "limits: a hook's minute-precision reset does not replace the exact one of the same minute",
  async ({ db }) => {
    const t0 = Date.parse("2026-12-01T05:00:00Z");
    const exact = Math.floor(t0 / 1000) + 1040; // 05:17:20
    const told = exact - 20; // "resets 5:17am (UTC)"
    const record = (source: "stream" | "hook", resetsAt: number) =>
      db.transaction((tx) =>
        recordLimits(tx, {
          source,
          account: ACCOUNT,
          windows: { five_hour: { utilization: 1, resetsAt, status: "rejected" } },
        }, { thresholds: [], now: t0 })
      );
    const stored = async () =>
      (await db.query<{ resets_at: Date }>(
        `SELECT resets_at FROM limit_windows WHERE window_name = 'five_hour'`,
      ))[0]
        .resets_at.getTime() / 1000;
    await record("stream", exact);
    await record("hook", told);
    assertEquals(await stored(), exact, "the exact reset is kept");
    await record("stream", exact + 3600);
    await record("hook", exact + 3600 - 20 + 60);
    assertEquals(await stored(), exact + 3600 - 20 + 60, "a reset of another minute is taken as told");

    // Both at once for an account with no row yet (a headless run's stream and its StopFailure hook): the
    // stream's transaction is still open when the hook's starts; the hook must wait for it and yield.
    await db.query("DELETE FROM limit_windows");
    let streamRecorded!: () => void;
    const recorded = new Promise<void>((r) => (streamRecorded = r));
    const stream = db.transaction(async (tx) => {
      await recordLimits(tx, {
        source: "stream",
        account: ACCOUNT,
        windows: { five_hour: { utilization: 1, resetsAt: exact, status: "rejected" } },
      }, { thresholds: [], now: t0 });
      streamRecorded();
      await new Promise((r) => setTimeout(r, 300));
    });
    await recorded;
    await Promise.all([stream, record("hook", told)]);
    assertEquals(await stored(), exact, "the exact reset is kept when both arrive together");
  },
);
