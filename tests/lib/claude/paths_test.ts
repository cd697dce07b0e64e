import { assert, assertEquals, assertMatch, assertNotEquals } from "../../helpers/assert.ts";
import { removeDir, tempDir } from "../../helpers/fs.ts";
import {
  claudeConfigDirs,
  encodeProjectDir,
  findTranscript,
  projectDir,
  subagentPathsOf,
  subagentTranscriptPaths,
  transcriptPaths,
} from "../../../lib/claude/paths.ts";

Deno.test("claude paths: every non-alphanumeric character of the cwd becomes '-'", () => {
  assertEquals(encodeProjectDir("/home/a/my.proj"), "-home-a-my-proj");
  assertEquals(encodeProjectDir("C:\\Users\\a"), "C--Users-a");
  assertEquals(encodeProjectDir("/home/ada/.config"), "-home-ada--config");
  assertEquals(encodeProjectDir("/srv/my_proj v2/naïve"), "-srv-my-proj-v2-na-ve");
  assertEquals(encodeProjectDir("D:\\work\\api-2"), "D--work-api-2");
});

Deno.test("claude paths: names over 200 characters are cut and get a hash of the whole cwd", () => {
  const long = "/" + "abcdefghij/".repeat(25);
  const a = encodeProjectDir(long + "one");
  const b = encodeProjectDir(long + "two");
  assertMatch(a, /^-abcdefghij-.{188}-[0-9a-z]+$/);
  assertEquals(a.slice(0, 200), long.replace(/[^a-zA-Z0-9]/g, "-").slice(0, 200));
  assertNotEquals(a, b, "the hash tells long paths with the same start apart");
  assertEquals(encodeProjectDir(long + "one"), a, "deterministic");
});

Deno.test("claude paths: $CLAUDE_CONFIG_DIR, several comma-separated, else ~/.claude and ~/.config/claude", () => {
  assertEquals(claudeConfigDirs({ CLAUDE_CONFIG_DIR: "/a/claude" }, "/home/ada", "linux"), ["/a/claude"]);
  assertEquals(claudeConfigDirs({ CLAUDE_CONFIG_DIR: " /a , /b,,/a " }, "/home/ada", "linux"), ["/a", "/b"]);
  assertEquals(claudeConfigDirs({}, "/home/ada", "linux"), ["/home/ada/.claude", "/home/ada/.config/claude"]);
  assertEquals(claudeConfigDirs({ CLAUDE_CONFIG_DIR: "" }, "/home/ada", "darwin"), [
    "/home/ada/.claude",
    "/home/ada/.config/claude",
  ]);
  assertEquals(claudeConfigDirs({}, "C:\\Users\\Ada", "windows"), [
    "C:\\Users\\Ada\\.claude",
    "C:\\Users\\Ada\\.config\\claude",
  ]);
});

Deno.test("claude paths: transcript candidates, one per config folder", () => {
  const id = "5f0c2a1e-8d3b-4c7a-9e61-0b2d4f6a8c13";
  assertEquals(transcriptPaths(["/c1", "/c2/"], "/w/my.app", id, "linux"), [
    `/c1/projects/-w-my-app/${id}.jsonl`,
    `/c2/projects/-w-my-app/${id}.jsonl`,
  ]);
  assertEquals(transcriptPaths(["C:\\Users\\a\\.claude"], "C:\\src\\api", id, "windows"), [
    `C:\\Users\\a\\.claude\\projects\\C--src-api\\${id}.jsonl`,
  ]);
  assertEquals(projectDir("/c1", "/w", "linux"), "/c1/projects/-w");
});

Deno.test("claude paths: subagent transcripts are found recursively under <sessionId>/", async () => {
  const root = await tempDir();
  try {
    const dir = `${root}/projects/-w/sid`;
    await Deno.mkdir(`${dir}/subagents`, { recursive: true });
    await Deno.writeTextFile(`${dir}/subagents/agent-b2.jsonl`, "");
    await Deno.writeTextFile(`${dir}/subagents/agent-a1.jsonl`, "");
    await Deno.writeTextFile(`${dir}/agent-old.jsonl`, "");
    await Deno.writeTextFile(`${dir}/notes.txt`, "");
    const expected = [
      `${dir}/agent-old.jsonl`,
      `${dir}/subagents/agent-a1.jsonl`,
      `${dir}/subagents/agent-b2.jsonl`,
    ];
    assertEquals(await subagentTranscriptPaths([root, `${root}/missing`], "/w", "sid", "linux"), expected);
    assertEquals(await subagentPathsOf(`${root}/projects/-w/sid.jsonl`, "linux"), expected);
    assertEquals(await subagentTranscriptPaths([root], "/w", "other", "linux"), []);
  } finally {
    await removeDir(root);
  }
});

Deno.test("claude paths: findTranscript tries the encoded cwd, then scans every project folder", async () => {
  const root = await tempDir();
  try {
    assertEquals(await findTranscript([root], "/w", "sid"), undefined, "no projects folder at all");
    await Deno.mkdir(`${root}/projects/-w`, { recursive: true });
    await Deno.mkdir(`${root}/projects/-private-w`, { recursive: true });
    await Deno.writeTextFile(`${root}/projects/-private-w/moved.jsonl`, "");
    await Deno.writeTextFile(`${root}/projects/-w/here.jsonl`, "");
    const here = await findTranscript([`${root}/none`, root], "/w", "here");
    assertEquals(here, transcriptPaths([root], "/w", "here")[0]);
    // Claude Code saw /private/w (e.g. macOS /tmp): the scan still finds it.
    const moved = await findTranscript([root], "/w", "moved");
    assert(moved?.endsWith("moved.jsonl"), `found ${moved}`);
    assertMatch(moved!, /-private-w/);
    assertEquals(await findTranscript([root], "/w", "absent"), undefined);
  } finally {
    await removeDir(root);
  }
});
