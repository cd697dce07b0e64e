/**
 * Marks runners whose agent went silent for longer than the TTL as failed. After a daemon (re)start it
 * waits one TTL before judging, so agents that kept running while the daemon was away can check in again.
 */
import type { Runner } from "../lib/schemas/runner.ts";
import { type Loop, startLoop } from "./loop.ts";
import type { Services } from "./services.ts";
import { markStale } from "./store/runners.ts";
import { endSilentObserved } from "./store/observed.ts";

/** An observed session silent this long is taken to be gone (it sends no heartbeats, only hooks). */
const OBSERVED_IDLE_MS = 12 * 3600_000;

export async function reconcileOnce(s: Services): Promise<Runner[]> {
  if (Date.now() - s.startedAt.getTime() < s.config.heartbeatTtl) return [];
  const failed = await s.db.transaction((tx) => markStale(tx, s.config.heartbeatTtl));
  await s.db.transaction((tx) => endSilentObserved(tx, OBSERVED_IDLE_MS));
  for (const r of failed) {
    s.log.warn("runner failed: no heartbeat", {
      runner: r.id,
      project: r.project,
      lastHeartbeatAt: r.lastHeartbeatAt,
    });
  }
  return failed;
}

export function startReconciler(s: Services): Loop {
  return startLoop(
    "reconciler",
    s.config.reconcileInterval,
    async () => {
      await reconcileOnce(s);
    },
    s.log.child({ component: "reconciler" }),
    { jitter: 0.2 },
  );
}
