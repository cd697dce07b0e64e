/**
 * The agent's link (runner token): a WebSocket at /runners/:id/link that every agent keeps open
 * (daemon/link/links.ts). /runners/:id/pty is the same endpoint under its earlier name, for agents of an
 * older version that hold a terminal and reconnect after the daemon was upgraded.
 */
import { Hono } from "hono";
import { runnerIdText } from "../../lib/schemas/common.ts";
import { readParam } from "../http/body.ts";
import { upgradeWebSocket } from "../http/websocket.ts";
import type { AppEnv } from "../http/types.ts";
import type { AgentLinks } from "../link/links.ts";
import type { Services } from "../services.ts";
import { getRunner } from "../store/runners.ts";

export function linkRoutes(s: Services, links: AgentLinks): Hono<AppEnv> {
  const app = new Hono<AppEnv>();
  for (const path of ["/:id/link", "/:id/pty"]) {
    app.get(path, async (c) => {
      const id = readParam("runner id", c.req.param("id"), runnerIdText);
      // An ended runner's agent is still linked: the first thing it hears is that state, and it acts on it.
      const runner = await getRunner(s.db, id);
      const { socket, response } = upgradeWebSocket(c.req.raw);
      links.accept(runner, socket);
      return response;
    });
  }
  return app;
}
