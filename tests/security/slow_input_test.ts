/**
 * `/ui/exchange` had no body timeout and a cut-off body logged a 500; `GET /runners/:id/logs` read the whole
 * log into memory. The exchange has the request timeout, a cut-off body is the client's 400, and logs are
 * streamed in pieces with an optional byte limit.
 */
import { assert, assertEquals, eventually } from "../helpers/assert.ts";
import { eachDaemon } from "../helpers/daemon.ts";

async function partialPost(url: string, path: string, sent: string, declared: number) {
  const u = new URL(url);
  const conn = await Deno.connect({ hostname: u.hostname, port: Number(u.port) });
  const head = `POST ${path} HTTP/1.1\r\nhost: ${u.host}\r\ncontent-type: application/json\r\n` +
    `content-length: ${declared}\r\n\r\n`;
  await conn.write(new TextEncoder().encode(head + sent));
  return conn;
}

async function statusOf(conn: Deno.Conn): Promise<number> {
  const buf = new Uint8Array(512);
  const n = await conn.read(buf);
  return Number(/^HTTP\/1\.1 (\d{3})/.exec(new TextDecoder().decode(buf.subarray(0, n ?? 0)))?.[1] ?? 0);
}

eachDaemon(
  "exchange: a body that never ends times out, a cut-off one is no server error",
  async ({ daemon }) => {
    const slow = await partialPost(daemon.url, "/ui/exchange", '{"code":', 100);
    const t0 = performance.now();
    assertEquals(await statusOf(slow), 504);
    const ms = performance.now() - t0;
    assert(ms < 10_000, `answered after ${Math.round(ms)} ms`);
    slow.close();
    const cut = await partialPost(daemon.url, "/ui/exchange", '{"code":"ab', 100);
    await new Promise((r) => setTimeout(r, 200));
    cut.close();
    await new Promise((r) => setTimeout(r, 1000));
    const errors = daemon.logs().filter((l) => /"level":"error"/.test(l));
    assertEquals(errors, [], "nothing logged as a server error");
    assertEquals(await fetch(`${daemon.url}/healthz`).then((r) => r.status), 200);
  },
  { inProcess: true, env: { STRATAVORE_REQUEST_TIMEOUT: "1s" }, only: "pglite" },
);

eachDaemon("logs: a detached runner's log is streamed, and ?limit= caps the bytes", async (t) => {
  const dir = `${t.daemon.home}/work`;
  await Deno.mkdir(dir, { recursive: true });
  await t.client.createProject({ name: "p", path: dir });
  const size = 3 * 1024 * 1024;
  const { runner } = await t.client.launch({
    project: "p",
    command: "sh",
    args: ["-c", `head -c ${size} /dev/zero | tr '\\0' x; sleep 1`],
    spawn: true,
  });
  await eventually(async () => (await t.client.getRunner(runner.id)).state === "stopped", 60_000, "ended");
  const headers = { authorization: `Bearer ${t.daemon.token}` };
  const limited = await fetch(`${t.daemon.url}/api/v1/runners/${runner.id}/logs?limit=1000&offset=10`, {
    headers,
  });
  assertEquals((await limited.bytes()).length, 1000);
  const whole = await fetch(`${t.daemon.url}/api/v1/runners/${runner.id}/logs`, { headers });
  let bytes = 0;
  let pieces = 0;
  for await (const chunk of whole.body!) {
    bytes += chunk.length;
    pieces++;
  }
  assert(bytes >= size, `got ${bytes} bytes`);
  assert(pieces > 1, "streamed in pieces");
}, { inProcess: true, subprocesses: true, only: "pglite" });
