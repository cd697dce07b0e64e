/**
 * The one table of settings (lib/settings.ts): the flags main.ts declares come from it, each flag's option
 * name is its setting's (so contextFrom() maps it), and the config file key, environment variable and help
 * text all follow from the same row.
 */
import type { CommandUnknownOpts } from "@commander-js/extra-typings";
import { assert, assertEquals } from "../helpers/assert.ts";
import { program } from "../../cli/program.ts";
import { configSchema, loadConfig } from "../../lib/config.ts";
import { flagHelp, flagName, type Setting, SETTINGS } from "../../lib/settings.ts";

const rows = Object.entries(SETTINGS) as [string, Setting][];

function allOptions(
  cmd: CommandUnknownOpts,
  path = "stratavore",
): { path: string; long?: string; name: string; help: string }[] {
  return [
    ...cmd.options.map((o) => ({ path, long: o.long, name: o.attributeName(), help: o.description })),
    ...cmd.commands.flatMap((c) => allOptions(c as CommandUnknownOpts, `${path} ${c.name()}`)),
  ];
}

Deno.test("settings: every flag main.ts has for a setting is the table's, named as the setting", () => {
  const options = allOptions(program);
  for (const [key, s] of rows) {
    const flag = flagName(s);
    const found = options.filter((o) => o.name === key);
    if (!flag) {
      // `project set --limit-policy` is the project's own field: only the program's and the daemon's options
      // set settings (contextFrom).
      const settingLike = found.filter((o) => o.path === "stratavore" || o.path === "stratavore daemon");
      assertEquals(settingLike, [], `${key} has no flag in the table, so none in main.ts`);
      continue;
    }
    assertEquals(found.length, 1, `--${key}: declared once`);
    assertEquals(found[0].long, flag, key);
    assertEquals(found[0].help, flagHelp(s), `${key}: its help is built from its row`);
  }
});

Deno.test("settings: one row per setting: schema keys, environment variables and defaults agree", () => {
  assertEquals(Object.keys(configSchema.shape).sort(), rows.map(([k]) => k).sort());
  const envs = rows.map(([, s]) => s.env);
  assert(envs.every((e) => typeof e === "string" && /^[A-Z][A-Z0-9_]+$/.test(e)), "every setting has one");
  assertEquals(new Set(envs).size, envs.length, "no variable names two settings");
  // Every default passes its own rule, and only settings without one are unset.
  const { config, sources } = loadConfig({ env: { HOME: "/h" }, readFile: () => undefined, os: "linux" });
  for (const [key, s] of rows) {
    const value = config[key as keyof typeof config];
    if (s.default === undefined) assertEquals(value, undefined, key);
    else assertEquals(sources[key as keyof typeof sources], "default", key);
  }
});

Deno.test("settings: a flag's help names its variable and its default, or what being unset means", () => {
  assertEquals(flagHelp(SETTINGS.listen), "API address (env STRATAVORE_LISTEN, default 127.0.0.1:7890)");
  assertEquals(
    flagHelp(SETTINGS.databaseUrl),
    "PostgreSQL URL (env DATABASE_URL; unset: embedded PGlite)",
  );
  assertEquals(
    flagHelp(SETTINGS.home),
    "data folder: data, logs and tokens (env STRATAVORE_HOME, default ~/.stratavore)",
  );
});

Deno.test("settings: the flag, the variable and the file each report a wrong value as their own source", () => {
  const load = (flags: Record<string, string>, env: Record<string, string>, file?: string) => {
    try {
      loadConfig({ flags, env: { HOME: "/h", ...env }, readFile: () => file, os: "linux" });
      return "";
    } catch (e) {
      return (e as Error).message;
    }
  };
  assertEquals(
    load({ listen: "nope" }, {}),
    'invalid setting listen="nope" (from flag --listen): expected host:port such as "127.0.0.1:7890"',
  );
  assertEquals(
    load({}, { STRATAVORE_LISTEN: "nope" }),
    'invalid setting STRATAVORE_LISTEN="nope" (from environment variable STRATAVORE_LISTEN): ' +
      'expected host:port such as "127.0.0.1:7890"',
  );
  assertEquals(
    load({}, {}, '{"metricsListen": 5}'),
    'invalid setting metricsListen=5 (from /h/.stratavore/config.json, key "metricsListen"): ' +
      "Invalid input: expected string, received number",
  );
});

Deno.test("settings: the README's table names each variable with its config.json key, as the table does", async () => {
  const readme = await Deno.readTextFile(new URL("../../README.md", import.meta.url));
  const table = readme.split("| environment ")[1].split("\n\n")[0].split("\n").slice(2);
  const ticked = (cell: string) => [...cell.matchAll(/`([^`]+)`/g)].map((m) => m[1]);
  let pairs = 0;
  for (const line of table) {
    const [, envCell, keyCell] = line.split("|");
    const envs = ticked(envCell).filter((t) => /^[A-Z][A-Z0-9_]+$/.test(t));
    const keys = ticked(keyCell).filter((t) => /^[a-z][A-Za-z]+$/.test(t));
    if (keys.length === 0) {
      // A setting set by flag only in the file (home): its variable is still the table's.
      for (const env of envs) assert(rows.some(([, s]) => s.env === env), `${env} is a setting's variable`);
      continue;
    }
    assertEquals(envs.length, keys.length, line);
    keys.forEach((key, i) => {
      assertEquals(SETTINGS[key as keyof typeof SETTINGS]?.env, envs[i], `README: ${key}`);
      pairs++;
    });
  }
  assert(pairs >= 10, `the table was read (${pairs} pairs)`);
});
