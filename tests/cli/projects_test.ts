/** `stratavore new`, `projects`, `project show|set|rm` against a live daemon. */
import { assert, assertEquals, assertMatch } from "../helpers/assert.ts";
import { eachDaemon } from "../helpers/daemon.ts";
import { assertGolden, cliFor, fixedClock, LONG_PATH, normalise, QUIET_DAEMON, seed } from "./helpers.ts";

const PROJECT_FIELDS = [
  "activeRunners",
  "approvalTimeoutSeconds",
  "approvals",
  "command",
  "commandArgs",
  "createdAt",
  "description",
  "id",
  "limitPolicy",
  "maxRunners",
  "name",
  "path",
  "tokensThisPeriod",
  "updatedAt",
  "worktree",
];

eachDaemon("cli projects: the table at 100 and 60 columns, -q and --json", async (t) => {
  const cli = cliFor(t);
  await seed(t.client);
  const env = { STRATAVORE_CLI_NOW: await fixedClock(t.client) };

  const wide = await cli(["projects"], { env: { ...env, COLUMNS: "100" } });
  assertEquals(wide.code, 0, wide.stderr);
  await assertGolden("projects_100.txt", wide.stdout);

  const narrow = await cli(["projects"], { env: { ...env, COLUMNS: "60" } });
  assertEquals(narrow.code, 0, narrow.stderr);
  await assertGolden("projects_60.txt", narrow.stdout);
  assert(narrow.stdout.split("\n").every((l) => l.length <= 60));

  assertEquals((await cli(["projects", "-q"])).stdout, "api\ndata-pipeline\nweb\n");

  const json = await cli(["projects", "--json"]);
  assertEquals(json.code, 0, json.stderr);
  const { projects } = JSON.parse(json.stdout);
  for (const p of projects) assertEquals(Object.keys(p).sort(), PROJECT_FIELDS);
  const api = projects.find((p: { name: string }) => p.name === "api");
  assertEquals(api.activeRunners, 2);
  assertEquals(api.tokensThisPeriod, 123_422 + 4_500_000);
}, { inProcess: true, subprocesses: true, only: "pglite", ...QUIET_DAEMON });

eachDaemon("cli new / project show / set / rm: the whole round, and --json of each", async (t) => {
  const cli = cliFor(t);
  const folder = await Deno.makeTempDir({ dir: t.daemon.home });

  // The path defaults to the current folder, and a relative --path is made absolute.
  const created = await cli(["new", "here"], { cwd: folder });
  assertEquals(created.code, 0, created.stderr);
  assertEquals(
    created.stdout,
    `project here created: ${folder} (quota 5 runners, command claude)\nstart a session with: stratavore launch here\n`,
  );
  assertEquals(created.stderr, "", "the folder exists: no note");
  const rel = await cli(["new", "there", "--path", "sub/dir", "--max-runners", "2", "--json"], {
    cwd: folder,
  });
  assertEquals(rel.code, 0, rel.stderr);
  const there = JSON.parse(rel.stdout);
  assertEquals(Object.keys(there).sort(), PROJECT_FIELDS);
  assertEquals([there.path, there.maxRunners], [`${folder}/sub/dir`, 2]);
  assertMatch(rel.stderr, /note: .*sub\/dir is not a folder on this machine/);

  const set = await cli([
    "project",
    "set",
    "there",
    "--args",
    `--model opus --append-system-prompt "be brief, 'please'"`,
    "--description",
    "second one",
    "--max-runners",
    "4",
  ]);
  assertEquals(set.code, 0, set.stderr);
  assertEquals(
    set.stdout,
    `project there updated: quota 4, description "second one", command claude --model opus --append-system-prompt "be brief, 'please'"\n`,
  );
  const p = await t.client.getProject("there");
  assertEquals(p.commandArgs, ["--model", "opus", "--append-system-prompt", "be brief, 'please'"]);

  const env = { STRATAVORE_CLI_NOW: await fixedClock(t.client) };
  const show = await cli(["project", "show", "there"], { env });
  assertEquals(show.code, 0, show.stderr);
  await assertGolden("project_show.txt", normalise(show.stdout.replaceAll(folder, "<folder>"), t));
  const shown = JSON.parse((await cli(["project", "show", "there", "--json"])).stdout);
  assertEquals(shown.commandArgs, p.commandArgs);

  assertEquals((await cli(["project", "set", "there", "--args", ""])).code, 0);
  assertEquals((await t.client.getProject("there")).commandArgs, [], '--args "" clears them');

  const rm = await cli(["project", "rm", "here", "--json"]);
  assertEquals(rm.code, 0, rm.stderr);
  assertEquals(JSON.parse(rm.stdout), { deleted: "here", killedRunners: [] });
  assertEquals((await cli(["projects", "-q"])).stdout, "there\n");
}, { inProcess: true, subprocesses: true, only: "pglite" });

eachDaemon("cli projects: errors are usage (2) or the API's message (1)", async (t) => {
  const cli = cliFor(t);
  await t.client.createProject({ name: "busy", path: "/srv/busy" });
  const { runner } = await t.client.launch({ project: "busy" });

  const cases: [string[], number, RegExp][] = [
    [["new", "Bad Name"], 2, /"Bad Name" is not a valid project name/],
    [["new", "ok", "--max-runners", "lots"], 2, /--max-runners must be a whole number, not "lots"/],
    [["new", "busy", "--path", "/srv/busy"], 1, /busy/],
    [["new"], 2, /missing required argument 'name'/],
    [
      ["project", "show", "nope"],
      1,
      /^stratavore: no project named "nope": list them with "stratavore projects"\n$/,
    ],
    [["project", "set", "busy"], 2, /nothing to change: give at least one of --path/],
    [["project", "set", "busy", "--args", `"open`], 2, /unclosed " in/],
    [
      ["project", "set", "busy", "--max-runners", "-1"],
      2,
      /error: unknown option '-1'|must be a whole number/,
    ],
    [["project", "rm", "busy"], 1, /has 1 active runner\(s\) \(1\): stop them first, or delete with --force/],
    [["project", "frob"], 2, /unknown command 'frob'/],
  ];
  for (const [args, code, re] of cases) {
    const r = await cli(args);
    assertEquals(r.code, code, `${args.join(" ")}: ${r.stderr}`);
    assertMatch(r.stderr, re, args.join(" "));
    assert(!r.stderr.includes("    at "), `no stack trace for ${args.join(" ")}`);
  }

  const forced = await cli(["project", "rm", "busy", "--force"]);
  assertEquals(forced.code, 0, forced.stderr);
  assertEquals(forced.stdout, `project busy deleted; killed its runner ${runner.id}\n`);
}, { inProcess: true, subprocesses: true, only: "pglite", ...QUIET_DAEMON });

eachDaemon("cli projects: create, list and remove on both storage backends", async (t) => {
  const cli = cliFor(t);
  assertEquals((await cli(["new", "both", "--path", LONG_PATH, "--command", "aider"])).code, 0);
  const [p] = JSON.parse((await cli(["projects", "--json"])).stdout).projects;
  assertEquals([p.name, p.path, p.command, p.maxRunners], ["both", LONG_PATH, "aider", 5]);
  assertEquals((await cli(["project", "rm", "both"])).stdout, "project both deleted\n");
  const empty = await cli(["projects"]);
  assertEquals([empty.code, empty.stdout], [0, ""]);
  assertMatch(empty.stderr, /no projects yet: create one with "stratavore new <name> --path DIR"/);
}, { inProcess: true, subprocesses: true });
