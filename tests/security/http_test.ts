/**
 * DNS rebinding and URL tokens. Neither port checked `Host` (a page on a rebound name could call the
 * daemon from the user's browser); the sign-in exchange's Origin check trusted Host; WebSocket upgrades
 * did not check Origin; `?access_token=` worked on any path with an events/attach/pty segment, mutating
 * routes included.
 */
import { assert, assertEquals } from "../helpers/assert.ts";
import { eachDaemon } from "../helpers/daemon.ts";
import { readDaemonInfo } from "../../lib/daemon_info.ts";

/** One raw HTTP/1.1 request (fetch does not let a test choose Host); returns the status code. */
async function raw(
  url: string,
  path: string,
  headers: Record<string, string>,
  method = "GET",
): Promise<number> {
  const u = new URL(url);
  const conn = await Deno.connect({ hostname: u.hostname, port: Number(u.port) });
  try {
    const lines = [`${method} ${path} HTTP/1.1`, ...Object.entries(headers).map(([k, v]) => `${k}: ${v}`)];
    if (method !== "GET") lines.push("content-length: 0");
    lines.push("connection: close", "", "");
    await conn.write(new TextEncoder().encode(lines.join("\r\n")));
    const buf = new Uint8Array(512);
    const n = await conn.read(buf);
    const status = /^HTTP\/1\.1 (\d{3})/.exec(new TextDecoder().decode(buf.subarray(0, n ?? 0)));
    return Number(status?.[1] ?? 0);
  } finally {
    conn.close();
  }
}

eachDaemon(
  "http: only allowed Host names are answered, on the API and the metrics port",
  async ({ daemon }) => {
    const port = new URL(daemon.url).port;
    const auth = { authorization: `Bearer ${daemon.token}` };
    assertEquals(await raw(daemon.url, "/healthz", { host: `attacker.example:${port}` }), 421);
    assertEquals(
      await raw(daemon.url, "/api/v1/projects", { host: `rebound.attacker.example`, ...auth }),
      421,
    );
    assertEquals(await raw(daemon.url, "/healthz", { host: `localhost:${port}` }), 200);
    assertEquals(await raw(daemon.url, "/healthz", { host: `127.0.0.1:${port}` }), 200);
    assertEquals(await raw(daemon.url, "/healthz", { host: `[::1]:${port}` }), 200);
    assertEquals(await raw(daemon.url, "/api/v1/projects", { host: `stratavore.lan:${port}`, ...auth }), 200);
    const metrics = readDaemonInfo(daemon.home)!.metricsUrl!;
    const mport = new URL(metrics).port;
    assertEquals(await raw(metrics, "/metrics", { host: `attacker.example:${mport}` }), 421);
    assertEquals(await raw(metrics, "/metrics", { host: `127.0.0.1:${mport}` }), 200);
    // The sign-in exchange: an Origin of another site is refused even with an allowed Host.
    assertEquals(
      await raw(
        daemon.url,
        "/ui/exchange",
        { host: `127.0.0.1:${port}`, origin: "http://attacker.example" },
        "POST",
      ),
      403,
    );
  },
  { inProcess: true, env: { STRATAVORE_ALLOWED_HOSTS: "stratavore.lan" }, only: "pglite" },
);

eachDaemon("http: ?access_token= works only on the event stream and terminal sockets, for GET", async (t) => {
  const { daemon, client } = t;
  await client.createProject({ name: "p", path: "/tmp" });
  const { runner } = await client.launch({ project: "p" });
  const q = `access_token=${daemon.token}`;
  const status = async (method: string, path: string) => {
    const res = await fetch(`${daemon.url}${path}${path.includes("?") ? "&" : "?"}${q}`, {
      method,
      signal: AbortSignal.timeout(10_000),
    });
    await res.body?.cancel();
    return res.status;
  };
  assertEquals(await status("GET", "/api/v1/events"), 200, "the SSE stream");
  assertEquals(await status("GET", "/api/v1/events/recent"), 401);
  assertEquals(await status("POST", "/api/v1/events/dead/retry"), 401);
  assertEquals(await status("GET", "/api/v1/projects"), 401);
  assertEquals(await status("POST", `/api/v1/runners/${runner.id}/kill`), 401);
  assertEquals(await status("GET", `/api/v1/runners/${runner.id}/attach/x`), 401);
  // The terminal socket takes it (and answers that it speaks WebSocket); the runner was not touched.
  const attach = await status("GET", `/api/v1/runners/${runner.id}/attach`);
  assert(attach !== 401 && attach < 500, `attach answered ${attach}`);
  assertEquals((await client.getRunner(runner.id)).state, "starting");
}, { inProcess: true });

eachDaemon("http: a WebSocket from another site's page is refused", async (t) => {
  const { daemon, client } = t;
  await client.createProject({ name: "p", path: "/tmp" });
  const { runner } = await client.launch({ project: "p" });
  const port = new URL(daemon.url).port;
  const upgrade = {
    host: `127.0.0.1:${port}`,
    upgrade: "websocket",
    connection: "Upgrade",
    "sec-websocket-key": "dGhlIHNhbXBsZSBub25jZQ==",
    "sec-websocket-version": "13",
    authorization: `Bearer ${daemon.token}`,
  };
  const path = `/api/v1/runners/${runner.id}/attach`;
  assertEquals(await raw(daemon.url, path, { ...upgrade, origin: "http://attacker.example" }), 403);
  const same = await raw(daemon.url, path, { ...upgrade, origin: `http://127.0.0.1:${port}` });
  assert(same !== 403 && same !== 421, `same-origin upgrade answered ${same}`);
}, { inProcess: true, only: "pglite" });
