import { RotatingFileSink } from "../../lib/log_file.ts";
import { assert, assertEquals, assertMatch } from "../helpers/assert.ts";
import { removeDir, tempDir } from "../helpers/fs.ts";
import { filesUnder } from "../helpers/service.ts";

Deno.test("service: the log file rotates by size and keeps a bounded number of files", async () => {
  const dir = await tempDir("stratavore-log-");
  try {
    const path = `${dir}/logs/daemon.log`;
    const sink = new RotatingFileSink(path, { maxBytes: 100, files: 3 });
    for (let i = 0; i < 20; i++) sink.write(`line ${String(i).padStart(2, "0")} ${"x".repeat(12)}`); // 21 bytes
    sink.close();
    assertEquals(filesUnder(`${dir}/logs`), ["daemon.log", "daemon.log.1", "daemon.log.2"]);
    for (const f of filesUnder(`${dir}/logs`)) assert((await Deno.stat(`${dir}/logs/${f}`)).size <= 100, f);
    const current = await Deno.readTextFile(path);
    assertMatch(current, /line 19/);
    assertMatch(
      await Deno.readTextFile(`${path}.1`),
      /^line 12 /,
      "each file holds four lines, oldest first",
    );
    assertMatch(await Deno.readTextFile(`${path}.2`), /^line 08 /);
    // Reopening appends to the current file and keeps counting its size.
    const again = new RotatingFileSink(path, { maxBytes: 100, files: 3 });
    again.write("after restart");
    again.close();
    assertMatch(await Deno.readTextFile(path), /line 19 x+\nafter restart\n$/);
  } finally {
    await removeDir(dir);
  }
});
