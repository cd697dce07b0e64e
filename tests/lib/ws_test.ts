/** Both WebSocket clients (Deno's own for links, `ws` for terminals) carry the token and report refusals. */
import { assertEquals } from "../helpers/assert.ts";
import { connectSocket, loadTerminalClient, refusedStatus } from "../../lib/ws.ts";

async function attempt(status: number | "open"): Promise<{ refused?: number; auth?: string | null }> {
  let auth: string | null = null;
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, (req) => {
    auth = req.headers.get("authorization");
    if (status !== "open") return new Response("no", { status });
    const { socket, response } = Deno.upgradeWebSocket(req);
    socket.onopen = () => socket.close(1000, "bye");
    return response;
  });
  try {
    const socket = connectSocket(`ws://127.0.0.1:${server.addr.port}/x`, { authorization: "Bearer t0k" });
    let refused: number | undefined;
    socket.onerror = (ev) => (refused = refusedStatus(ev) ?? refused);
    await Promise.race([
      new Promise((r) => (socket.onclose = r)),
      new Promise((_, reject) => setTimeout(() => reject(new Error("no close in 10 s")), 10_000)),
    ]);
    return { refused, auth };
  } finally {
    await server.shutdown();
  }
}

Deno.test("ws: Deno's client (links) sends the token in a header and reports a refused upgrade's status", async () => {
  assertEquals(await attempt(401), { refused: 401, auth: "Bearer t0k" });
  assertEquals(await attempt(409), { refused: 409, auth: "Bearer t0k" });
  assertEquals(await attempt("open"), { refused: undefined, auth: "Bearer t0k" });
});

Deno.test("ws: the terminal client (ws, TCP_NODELAY) does the same once loaded", async () => {
  await loadTerminalClient();
  assertEquals(await attempt(401), { refused: 401, auth: "Bearer t0k" });
  assertEquals(await attempt("open"), { refused: undefined, auth: "Bearer t0k" });
});
