/** WebSocket upgrades (agent links, terminal viewers); the server pings, so a dead peer is noticed in 30 s. */
import { AppError } from "../../lib/errors.ts";

export function upgradeWebSocket(req: Request): { socket: WebSocket; response: Response } {
  if (req.headers.get("upgrade")?.toLowerCase() !== "websocket") {
    throw new AppError(
      "bad_request",
      "this endpoint speaks WebSocket: connect with an Upgrade: websocket request",
    );
  }
  return Deno.upgradeWebSocket(req, { idleTimeout: 30 });
}
