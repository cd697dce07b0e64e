/**
 * Gzip bomb: the transcript upload limited compressed bytes only; 1 MiB of gzip expanding to 1 GiB took
 * 18.5 s and stalled /healthz for 7.6 s. The expanded size and the ratio are capped, and the daemon keeps
 * answering meanwhile.
 */
import { gzipSync } from "node:zlib";
import { assert, assertEquals, assertMatch } from "../helpers/assert.ts";
import { eachDaemon } from "../helpers/daemon.ts";
import { TRANSCRIPT_LIMITS } from "../../daemon/transcripts.ts";

const S = "11111111-2222-4333-8444-555555555555";

eachDaemon(
  "transcripts: a gzip bomb is refused quickly and the daemon keeps answering",
  async ({ daemon, client }) => {
    await client.createProject({ name: "p", path: "/tmp" });
    const r = await client.launch({ project: "p" });
    const agent = client.withToken(r.token);
    await agent.started(r.runner.id, { pid: 10, host: "h", sessionId: S });
    // 256 MiB of newlines: about 256 KiB of gzip, a 1000× expansion.
    const bomb = new Uint8Array(gzipSync(new Uint8Array(256 * 1024 * 1024).fill(10), { level: 9 }));
    const upload = (body: Uint8Array<ArrayBuffer>) =>
      fetch(`${daemon.url}/api/v1/runners/${r.runner.id}/transcript?session=${S}`, {
        method: "PUT",
        headers: { authorization: `Bearer ${r.token}`, "content-type": "application/gzip" },
        body,
      });
    const latencies: number[] = [];
    let uploading = true;
    const probe = (async () => {
      while (uploading) {
        const t0 = performance.now();
        await (await fetch(`${daemon.url}/healthz`)).body?.cancel();
        latencies.push(performance.now() - t0);
        await new Promise((res) => setTimeout(res, 20));
      }
    })();
    const t0 = performance.now();
    const res = await upload(bomb);
    const took = performance.now() - t0;
    uploading = false;
    await probe;
    const text = await res.text();
    assertEquals(res.status, 413, text);
    assertMatch(text, /expands more than/);
    assert(took < 10_000, `refused after ${Math.round(took)} ms`);
    const worst = Math.max(...latencies);
    assert(worst < 3000, `/healthz took up to ${Math.round(worst)} ms during the upload`);
    console.log(`bomb refused in ${Math.round(took)} ms; /healthz worst ${Math.round(worst)} ms`);

    // A real transcript (a few MiB of JSONL, compressing ~10×) is stored, its lines counted.
    const line = JSON.stringify({
      type: "assistant",
      message: { content: "x".repeat(200) },
      n: Math.random(),
    });
    const lines = Array.from({ length: 20_000 }, (_, i) => line.replace('"n":', `"i":${i},"n":`)).join("\n") +
      "\n";
    const ok = await upload(new Uint8Array(gzipSync(new TextEncoder().encode(lines))));
    const stored = await ok.json();
    assertEquals(ok.status, 200, JSON.stringify(stored));
    assertEquals(stored.lines, 20_000);
    assert(TRANSCRIPT_LIMITS.ratio >= 50);
  },
  { inProcess: true },
);
