/**
 * readOauthAccount against JSON.parse of the whole file, on generated state files: the key anywhere among
 * projects with prompt history, strings holding braces, quotes, escapes, non-ASCII text and the key's own
 * name, every chunk size down to a few bytes (a key or object cut between reads).
 */
import { assertEquals } from "../../helpers/assert.ts";
import { rng } from "../../helpers/rng.ts";
import { readOauthAccount } from "../../../lib/claude/state_file.ts";
import { accountOf } from "../../../lib/claude/limits.ts";

const NASTY = [
  '{"oauthAccount": {}}',
  '"oauthAccount":',
  "}{",
  "\\",
  'a "quoted" word',
  "ünïcødé ✓ 日本",
  "\n\t",
];

function stateFile(next: () => number): { text: string; expected: unknown } {
  const pick = <T>(xs: readonly T[]) => xs[Math.floor(next() * xs.length)];
  const text = () => Array.from({ length: 1 + Math.floor(next() * 4) }, () => pick(NASTY)).join(" ");
  const projects: Record<string, unknown> = {};
  for (let i = Math.floor(next() * 6); i > 0; i--) {
    projects[`/home/dev/${text()}`] = {
      history: Array.from(
        { length: Math.floor(next() * 5) },
        () => ({ display: text(), pastedContents: {} }),
      ),
      allowedTools: [pick(NASTY)],
      nested: { deeper: { value: text(), list: [1, { x: text() }] } },
    };
  }
  const account = pick([
    { accountUuid: crypto.randomUUID(), emailAddress: "dev@example.com", organizationName: text() },
    { accountUuid: crypto.randomUUID(), nested: { role: text(), list: [{ a: "}" }] } },
    null,
    undefined,
    "oauthAccount",
  ]);
  const before: Record<string, unknown> = { numStartups: 7, note: pick(NASTY) };
  const after: Record<string, unknown> = { projects, tipsHistory: { "oauthAccount": 3 } };
  // The key before, between or after the big parts, as Claude Code may write it.
  const order = Math.floor(next() * 3);
  const state = {
    ...before,
    ...(order === 0 && account !== undefined ? { oauthAccount: account } : {}),
    projects,
    ...(order === 1 && account !== undefined ? { oauthAccount: account } : {}),
    ...after,
    ...(order === 2 && account !== undefined ? { oauthAccount: account } : {}),
  };
  const parsed = JSON.parse(JSON.stringify(state));
  const expected = typeof parsed.oauthAccount === "object" && parsed.oauthAccount !== null
    ? parsed.oauthAccount
    : undefined;
  return { text: JSON.stringify(state, null, next() < 0.5 ? 2 : undefined), expected };
}

Deno.test("state file: readOauthAccount finds what JSON.parse of the whole file finds, at every chunk size", async () => {
  const dir = await Deno.makeTempDir({ prefix: "stratavore-state-" });
  try {
    const next = rng(20261202);
    for (let i = 0; i < 200; i++) {
      const { text, expected } = stateFile(next);
      const path = `${dir}/${i}.json`;
      await Deno.writeTextFile(path, text);
      for (const chunk of [3, 7, 16, 64, 1000, 65536]) {
        assertEquals(await readOauthAccount(path, chunk), expected, `case ${i}, chunks of ${chunk}: ${text}`);
      }
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("state file: only the account is parsed; a missing or broken file is no login", async () => {
  const dir = await Deno.makeTempDir({ prefix: "stratavore-state-" });
  try {
    // What follows the account is not JSON at all: the file is not parsed whole.
    const path = `${dir}/.claude.json`;
    await Deno.writeTextFile(
      path,
      `{"oauthAccount": {"accountUuid": "u-1", "emailAddress": "a@b.c"}, "projects": {${"x".repeat(200_000)}`,
    );
    assertEquals(await readOauthAccount(path), { accountUuid: "u-1", emailAddress: "a@b.c" });
    assertEquals(await accountOf({ CLAUDE_CONFIG_DIR: dir }, "/nowhere"), {
      key: "account:u-1",
      kind: "account",
      label: "a@b.c",
    });
    // A key that ends in the same characters, its quote escaped: not the login.
    await Deno.writeTextFile(
      path,
      JSON.stringify({ 'x"oauthAccount': { accountUuid: "wrong" }, oauthAccount: { accountUuid: "right" } }),
    );
    assertEquals(await readOauthAccount(path), { accountUuid: "right" });
    for (let chunk = 1; chunk <= 40; chunk++) {
      assertEquals(await readOauthAccount(path, chunk), { accountUuid: "right" }, `in chunks of ${chunk}`);
    }
    assertEquals(await readOauthAccount(`${dir}/missing.json`), undefined);
    await Deno.writeTextFile(path, '{"oauthAccount": {"accountUuid": "u-1", ');
    assertEquals(await readOauthAccount(path), undefined, "cut off inside the object");
    await Deno.writeTextFile(path, '{"oauthAccount": {"accountUuid": u-1}}');
    assertEquals(await readOauthAccount(path), undefined, "not JSON inside the object");
    assertEquals(await accountOf({ CLAUDE_CONFIG_DIR: dir }, "/nowhere"), {
      key: `config:${dir}`,
      kind: "config_dir",
      label: dir,
    });
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
