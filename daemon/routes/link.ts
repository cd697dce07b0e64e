/**
 * The agent's link (runner token): a WebSocket at /runners/:id/link that every agent keeps open
 * (daemon/link/links.ts). /runners/:id/pty is the same endpoint under its earlier name, for agents of an
 * older version that hold a terminal and reconnect after the daemon was upgraded.
 */
import { runnerIdText } from "../../lib/schemas/common.ts";
import { readParam } from "../http/body.ts";
import { upgradeWebSocket } from "../http/websocket.ts";
import { type Route, Routes } from "../http/route.ts";
import type { AgentLinks } from "../link/links.ts";
import type { Services } from "../services.ts";
import { getRunner } from "../store/runners.ts";

export function linkRoutes(s: Services, links: AgentLinks): Route[] {
  const app = new Routes("/runners");
  for (const path of ["/:id/link", "/:id/pty"]) {
    // The earlier name took the token in the URL too (for browsers, when it was the terminal's socket).
    app.get(
      path,
      { auth: "runner", longLived: true, ...(path === "/:id/pty" ? { urlToken: true } : {}) },
      async (c) => {
        const id = readParam("runner id", c.req.param("id"), runnerIdText);
        // An ended runner's agent is still linked: the first thing it hears is that state, and it acts on it.
        const runner = await getRunner(s.db, id);
        const { socket, response } = upgradeWebSocket(c.req.raw);
        links.accept(runner, socket);
        return response;
      },
    );
  }
  return app.list;
}
