/** `deno task start` path: the daemon comes up on the embedded default and stops cleanly on a signal. */
import { assert, assertEquals, assertMatch } from "../helpers/assert.ts";
import { stratavoreCommand } from "../helpers/cli.ts";
import { FAST_TIER } from "../helpers/env.ts";
import { freshPgliteDir } from "../helpers/db.ts";
import { copyDir, removeDir, tempDir } from "../helpers/fs.ts";

async function readUntil(reader: ReadableStreamDefaultReader<string>, re: RegExp, timeoutMs: number) {
  let text = "";
  const deadline = Date.now() + timeoutMs;
  while (!re.test(text)) {
    const left = deadline - Date.now();
    if (left <= 0) throw new Error(`no ${re} in output:\n${text}`);
    const r = await Promise.race([
      reader.read(),
      new Promise<{ done: true; value: undefined }>((res) =>
        setTimeout(() => res({ done: true, value: undefined }), left)
      ),
    ]);
    if (r.done) break;
    text += r.value;
  }
  return text;
}

async function seededHome(): Promise<string> {
  const home = await tempDir("stratavore-home-");
  const data = await freshPgliteDir();
  await copyDir(data, `${home}/data`);
  await removeDir(data);
  return home;
}

Deno.test({
  name: "daemon: starts on the embedded default, says where its data lives, stops on SIGINT",
  ignore: FAST_TIER, // daemon subprocesses
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    const home = await seededHome();
    const child = stratavoreCommand(["daemon"], {
      env: {
        STRATAVORE_HOME: home,
        STRATAVORE_LISTEN: "127.0.0.1:0",
        STRATAVORE_METRICS_LISTEN: "127.0.0.1:0",
      },
    }).spawn();
    const reader = child.stderr.pipeThrough(new TextDecoderStream()).getReader();
    const out = await readUntil(reader, /data: embedded PGlite in/, 30_000);
    assertMatch(out, new RegExp(`embedded PGlite in ${home}/data`));
    // The admin token is readable by its owner only.
    assertEquals((await Deno.stat(`${home}/api-token`)).mode! & 0o777, 0o600);
    child.kill("SIGINT");
    const status = await child.status;
    reader.releaseLock();
    await child.stdout.cancel();
    assertEquals(status.code, 0);
    await removeDir(home);
  },
});

Deno.test({
  name: "daemon: a second daemon on the same home refuses to start",
  ignore: FAST_TIER, // daemon subprocesses
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    const home = await seededHome();
    const env = {
      STRATAVORE_HOME: home,
      STRATAVORE_LISTEN: "127.0.0.1:0",
      STRATAVORE_METRICS_LISTEN: "127.0.0.1:0",
    };
    const first = stratavoreCommand(["daemon"], { env }).spawn();
    const reader = first.stderr.pipeThrough(new TextDecoderStream()).getReader();
    await readUntil(reader, /daemon ready|listening/, 30_000);
    const second = await stratavoreCommand(["daemon"], { env }).output();
    const err = new TextDecoder().decode(second.stderr);
    assertEquals(second.code, 1, err);
    assertMatch(err, /another stratavore daemon is already running on/);
    assert(!err.includes("    at "), "no stack trace");
    first.kill("SIGTERM");
    assertEquals((await first.status).code, 0);
    reader.releaseLock();
    await first.stdout.cancel();
    await removeDir(home);
  },
});
