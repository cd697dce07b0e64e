import { assertEquals } from "../../helpers/assert.ts";
import { removeDir, tempDir } from "../../helpers/fs.ts";
import { TranscriptFollower } from "../../../lib/claude/follow.ts";

const append = (path: string, data: string | Uint8Array) =>
  typeof data === "string"
    ? Deno.writeTextFile(path, data, { append: true })
    : Deno.writeFile(path, data, { append: true });

Deno.test("claude follow: a missing file gives nothing until it appears", async () => {
  const dir = await tempDir();
  try {
    const f = new TranscriptFollower(`${dir}/t.jsonl`);
    assertEquals(await f.poll(), []);
    await append(f.path, "one\n");
    assertEquals(await f.poll(), ["one"]);
    assertEquals(await f.poll(), [], "nothing new");
  } finally {
    await removeDir(dir);
  }
});

Deno.test("claude follow: a partial line is held until its newline arrives", async () => {
  const dir = await tempDir();
  try {
    const f = new TranscriptFollower(`${dir}/t.jsonl`);
    await append(f.path, '{"a":1}\n{"b":');
    assertEquals(await f.poll(), ['{"a":1}']);
    assertEquals(await f.poll(), []);
    await append(f.path, "2}\r\n\n");
    assertEquals(await f.poll(), ['{"b":2}'], "CRLF stripped, blank lines dropped");
    await append(f.path, "tail");
    assertEquals(await f.poll(), []);
    assertEquals(f.flush(), ["tail"], "the unterminated last line on demand");
    assertEquals(f.flush(), []);
    assertEquals(f.offset, (await Deno.stat(f.path)).size);
  } finally {
    await removeDir(dir);
  }
});

Deno.test("claude follow: a multi-byte character split across writes comes out whole", async () => {
  const dir = await tempDir();
  try {
    const f = new TranscriptFollower(`${dir}/t.jsonl`);
    const bytes = new TextEncoder().encode("héllo €\n");
    await append(f.path, bytes.subarray(0, 2)); // "h" and half of "é"
    assertEquals(await f.poll(), []);
    await append(f.path, bytes.subarray(2, 8)); // the rest of "é", "llo " and part of "€"
    assertEquals(await f.poll(), []);
    await append(f.path, bytes.subarray(8));
    assertEquals(await f.poll(), ["héllo €"]);
  } finally {
    await removeDir(dir);
  }
});

Deno.test("claude follow: a truncated or replaced file is read again from the start", async () => {
  const dir = await tempDir();
  try {
    const f = new TranscriptFollower(`${dir}/t.jsonl`);
    await append(f.path, "first line\nsecond line\npartial");
    assertEquals(await f.poll(), ["first line", "second line"]);
    await Deno.writeTextFile(f.path, "new\n"); // shorter than what was read
    assertEquals(await f.poll(), ["new"], "the old partial line is dropped");
    // Replaced by another, longer file (e.g. rewritten by rename): its identity changed.
    await Deno.writeTextFile(`${dir}/other`, "replaced 1\nreplaced 2\n");
    await Deno.rename(`${dir}/other`, f.path);
    const ino = (await Deno.stat(f.path)).ino;
    if (ino !== null) assertEquals(await f.poll(), ["replaced 1", "replaced 2"]);
    await Deno.remove(f.path);
    assertEquals(await f.poll(), [], "deleted: nothing, no error");
    await append(f.path, "again\n");
    assertEquals(await f.poll(), ["again"]);
  } finally {
    await removeDir(dir);
  }
});

Deno.test("claude follow: large files are read in full, across several chunks", async () => {
  const dir = await tempDir();
  try {
    const f = new TranscriptFollower(`${dir}/t.jsonl`);
    const lines = Array.from({ length: 5000 }, (_, i) => JSON.stringify({ i, pad: "x".repeat(40) }));
    await append(f.path, lines.join("\n") + "\n");
    assertEquals(await f.poll(), lines);
  } finally {
    await removeDir(dir);
  }
});

Deno.test("claude follow: polls made at once return each line once, in order", async () => {
  const dir = await tempDir();
  try {
    const f = new TranscriptFollower(`${dir}/t.jsonl`);
    await append(f.path, Array.from({ length: 200 }, (_, i) => `line ${i}`).join("\n") + "\n");
    const results = await Promise.all(Array.from({ length: 5 }, () => f.poll()));
    assertEquals(results.flat(), Array.from({ length: 200 }, (_, i) => `line ${i}`));
  } finally {
    await removeDir(dir);
  }
});
