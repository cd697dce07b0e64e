/**
 * Heartbeats are written in batches. A value the database refused (a pid past 2^31 did, before the schema
 * bound it) failed the whole batch, so other runners' heartbeats got 500 (15–17 of 20). A refused batch is
 * written row by row: only the bad heartbeat fails. Tested below the schema, against the real databases.
 */
import { assert, assertEquals } from "../helpers/assert.ts";
import { eachBackend } from "../helpers/db.ts";
import { HeartbeatBatcher } from "../../daemon/heartbeats.ts";
import { createProject } from "../../daemon/store/projects.ts";
import { launchRunner } from "../../daemon/store/runners.ts";

eachBackend("heartbeats: one row the database refuses fails only its own heartbeat", async ({ db }) => {
  await db.transaction((tx) => createProject(tx, { name: "p", path: "/tmp", maxRunners: 50 }));
  const ids: number[] = [];
  for (let i = 0; i < 20; i++) {
    const { runner } = await db.transaction((tx) => launchRunner(tx, { project: "p", worktree: false }));
    ids.push(runner.id);
  }
  // Several writes at once, so that the batcher folds them into one statement.
  const batcher = new HeartbeatBatcher(db, { gather: true, maxInFlight: 1 });
  const now = Date.now();
  const results = await Promise.allSettled(
    ids.map((id, i) => batcher.submit(id, { pid: i === 3 ? 2 ** 31 + 5 : 1000 + i }, now + i)),
  );
  const failed = results.flatMap((r, i) => (r.status === "rejected" ? [ids[i]] : []));
  assertEquals(failed, [ids[3]], "only the bad heartbeat failed");
  for (const [i, r] of results.entries()) {
    if (i !== 3) assert(r.status === "fulfilled" && r.value?.accepted, `runner ${ids[i]} accepted`);
  }
});
