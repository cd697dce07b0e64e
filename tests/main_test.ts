import { assert, assertEquals, assertMatch } from "./helpers/assert.ts";
import { runStratavore } from "./helpers/cli.ts";
import { VERSION } from "../lib/version.ts";
import { REPO } from "./helpers/env.ts";

async function commandsIn(args: string[]): Promise<string[]> {
  const r = await runStratavore([...args, "--help"]);
  assertEquals(r.code, 0, r.stderr);
  const section = r.stdout.split("Commands:")[1] ?? "";
  return section.split("\n").map((l) => /^ {2}(\S+)/.exec(l)?.[1]).filter((n): n is string => !!n);
}

Deno.test("main: --help lists each command exactly once, and so does each command with subcommands", async () => {
  const names = await commandsIn([]);
  assert(names.length >= 2, `commands listed: ${names}`);
  assertEquals(new Set(names).size, names.length, `duplicates in ${names.join(", ")}`);
  for (const expected of ["daemon", "config"]) assert(names.includes(expected), `${expected} listed`);
  const nested = {
    daemon: ["install", "uninstall", "status"],
    project: ["show", "set", "rm"],
    budget: ["set"],
  };
  for (const [parent, expected] of Object.entries(nested)) {
    const subs = await commandsIn([parent]);
    assertEquals(new Set(subs).size, subs.length, `duplicates under ${parent}: ${subs.join(", ")}`);
    for (const e of expected) assert(subs.includes(e), `${parent} ${e} listed (${subs.join(", ")})`);
  }
  for (const parent of ["events", "session", "notify"]) {
    const subs = await commandsIn([parent]);
    assertEquals(new Set(subs).size, subs.length, `duplicates under ${parent}: ${subs.join(", ")}`);
  }
});

Deno.test("main: --version prints the one version constant, which matches deno.json", async () => {
  const r = await runStratavore(["--version"]);
  assertEquals(r.code, 0);
  assertEquals(r.stdout.trim(), VERSION);
  const denoJson = JSON.parse(await Deno.readTextFile(`${REPO}/deno.json`));
  assertEquals(denoJson.version, VERSION);
});

Deno.test("main: an unknown command is a usage error (exit 2)", async () => {
  const r = await runStratavore(["frobnicate"]);
  assertEquals(r.code, 2);
  assertMatch(r.stderr, /unknown command 'frobnicate'/);
});

Deno.test("main: a bad setting stops the program with one line and exit 2", async () => {
  const home = await Deno.makeTempDir();
  const r = await runStratavore(["config"], {
    env: { STRATAVORE_HOME: home, STRATAVORE_LOG_LEVEL: "chatty" },
  });
  assertEquals(r.code, 2);
  assertEquals(r.stderr.trim().split("\n").length, 1);
  assertMatch(r.stderr, /STRATAVORE_LOG_LEVEL="chatty" \(from environment variable STRATAVORE_LOG_LEVEL\)/);
  await Deno.remove(home, { recursive: true });
});

Deno.test("main: `config --json` shows effective settings with secrets masked", async () => {
  const home = await Deno.makeTempDir();
  await Deno.writeTextFile(`${home}/config.json`, JSON.stringify({ metricsListen: "127.0.0.1:9999" }));
  const r = await runStratavore(["--json", "config"], {
    env: { STRATAVORE_HOME: home, DATABASE_URL: "postgres://u:topsecret@127.0.0.1:5432/x" },
  });
  assertEquals(r.code, 0, r.stderr);
  const out = JSON.parse(r.stdout);
  assertEquals(out.settings.metricsListen, {
    value: "127.0.0.1:9999",
    source: `${home}/config.json, key "metricsListen"`,
  });
  assertEquals(out.settings.databaseUrl.value, "postgres://u:****@127.0.0.1:5432/x");
  assert(!r.stdout.includes("topsecret"));
  await Deno.remove(home, { recursive: true });
});
