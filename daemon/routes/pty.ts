/**
 * Viewers of detached interactive runners' terminals (admin token): a WebSocket at
 * /runners/:id/attach?mode=ro|rw&name=…. The agent's side comes in over its link (routes/link.ts).
 */
import { z } from "zod";
import { AppError } from "../../lib/errors.ts";
import { runnerIdText } from "../../lib/schemas/common.ts";
import { readParam } from "../http/body.ts";
import { upgradeWebSocket } from "../http/websocket.ts";
import { type Route, Routes } from "../http/route.ts";
import type { PtyHub } from "../pty/hub.ts";
import type { Services } from "../services.ts";
import { getRunner } from "../store/runners.ts";
import { holdingDaemon } from "../store/daemons.ts";
import { isActive } from "../../lib/runner_states.ts";

const mode = z.enum(["rw", "ro"]).optional();
const viewerName = z.string().regex(/^[\w.@:-]{1,64}$/, "expected a short name (letters, digits, . _ @ : -)")
  .optional();

/**
 * A session's terminal lives in the daemon its agent connects to (the one that launched it); another
 * daemon on the same database would show a session that never comes alive, so it says where to go.
 */
async function refuseIfHeldElsewhere(s: Services, id: number): Promise<void> {
  const owner = await holdingDaemon(s.db, id);
  if (owner && owner.id !== s.daemonId && owner.url !== s.url) {
    throw new AppError(
      "conflict",
      `runner ${id}'s terminal is held by the daemon at ${owner.url} (${owner.id}), which launched it: ` +
        `attach through that one: stratavore attach ${id} --url ${owner.url}`,
    );
  }
}

export function ptyRoutes(s: Services, hub: PtyHub): Route[] {
  const app = new Routes("/runners");

  app.get("/:id/attach", { auth: "admin", longLived: true, urlToken: true }, async (c) => {
    const id = readParam("runner id", c.req.param("id"), runnerIdText);
    const readOnly = readParam("mode", c.req.query("mode"), mode) === "ro";
    const name = readParam("name", c.req.query("name"), viewerName) ?? "viewer";
    const runner = await getRunner(s.db, id);
    const existing = hub.find(id);
    if (runner.mode !== "pty") {
      throw new AppError(
        "conflict",
        `runner ${id} has no terminal to attach to: only runners launched with --detach (without --prompt) have one`,
      );
    }
    if (!existing && !isActive(runner.state)) {
      throw new AppError(
        "conflict",
        `runner ${id} has ended (${runner.state}); its output is in "stratavore logs ${id}"`,
      );
    }
    if (!existing?.live) await refuseIfHeldElsewhere(s, id);
    const { socket, response } = upgradeWebSocket(c.req.raw);
    hub.channel(id).addViewer(socket, { readOnly, name });
    return response;
  });

  return app.list;
}
