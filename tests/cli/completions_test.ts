/**
 * `stratavore completions`: each script parses in its shell, and completes commands, flags, choices,
 * project names and runner ids (asked from a live daemon) when the shell is installed.
 */
import { program } from "../../cli/program.ts";
import { RUNNER_STATES } from "../../lib/schemas/runner.ts";
import { assert, assertEquals, assertStringIncludes } from "../helpers/assert.ts";
import { baseEnv, runStratavore } from "../helpers/cli.ts";
import { type DaemonTest, eachDaemon } from "../helpers/daemon.ts";
import { MAIN } from "../helpers/env.ts";
import { QUIET_DAEMON } from "./helpers.ts";

async function has(shell: string): Promise<boolean> {
  try {
    return (await new Deno.Command(shell, { args: ["-c", "exit 0"], stdout: "null", stderr: "null" })
      .output())
      .success;
  } catch {
    return false;
  }
}
const HAS = {
  bash: await has("bash"),
  zsh: await has("zsh"),
  fish: await has("fish"),
  pwsh: await has("pwsh"),
};

async function script(shell: string): Promise<string> {
  const r = await runStratavore(["completions", shell]);
  assertEquals(r.code, 0, r.stderr);
  return r.stdout;
}

async function writeTemp(text: string, suffix: string): Promise<string> {
  const path = await Deno.makeTempFile({ suffix });
  await Deno.writeTextFile(path, text);
  return path;
}

async function sh(cmd: string, args: string[], env?: Record<string, string>) {
  const out = await new Deno.Command(cmd, { args, env, clearEnv: !!env, stdout: "piped", stderr: "piped" })
    .output();
  const dec = new TextDecoder();
  return { code: out.code, stdout: dec.decode(out.stdout), stderr: dec.decode(out.stderr) };
}

Deno.test("completions: every script names the commands, subcommands and flags of the program", async () => {
  const help = await runStratavore(["--help"]);
  const commands = help.stdout.split("Commands:")[1].split("\n").map((l) => /^ {2}([a-z-]+)/.exec(l)?.[1])
    .filter((c): c is string => !!c);
  for (
    const c of ["status", "new", "projects", "project", "runners", "runner", "stop", "kill", "completions"]
  ) {
    assert(commands.includes(c), `${c} is in --help`);
  }
  for (const shell of ["bash", "zsh", "fish", "powershell"]) {
    const text = await script(shell);
    for (
      const word of [...commands, "show", "set", "rm", "--max-runners", "--all-projects", "--state", "--yes"]
    ) {
      assertStringIncludes(text, word, `${shell} script`);
    }
  }
  // The program's own top level, exactly: what --help lists (hidden commands such as hook are not).
  const root = /^ {4}''\)\n {6}subs='([^']*)'/m.exec(await script("bash"))?.[1].split(" ");
  assertEquals(root?.sort(), [...commands].sort());
  assertStringIncludes(
    await script("powershell"),
    "Register-ArgumentCompleter -Native -CommandName stratavore",
  );
});

Deno.test("completions: runners --state offers exactly the runner states", () => {
  const runners = program.commands.find((c) => c.name() === "runners")!;
  const state = runners.options.find((o) => o.long === "--state")!;
  assertEquals(state.argChoices, [...RUNNER_STATES]);
});

/** A `stratavore` on PATH that runs this checkout, as an installed binary would. */
async function shimDir(): Promise<string> {
  const dir = await Deno.makeTempDir();
  await Deno.writeTextFile(
    `${dir}/stratavore`,
    `#!/bin/sh\nexec '${Deno.execPath()}' run -A --quiet '${MAIN}' "$@"\n`,
    { mode: 0o755 },
  );
  return dir;
}

interface Fixture {
  env: Record<string, string>;
  running: number[];
  ended: number;
  cleanup(): Promise<void>;
}

async function fixture(t: DaemonTest): Promise<Fixture> {
  await t.client.createProject({ name: "api", path: "/srv/api" });
  await t.client.createProject({ name: "web", path: "/srv/web" });
  const ids = [];
  for (let i = 0; i < 3; i++) ids.push((await t.client.launch({ project: "api" })).runner.id);
  await t.client.killRunner(ids[0]);
  const dir = await shimDir();
  const env = baseEnv({ ...t.env, PATH: `${dir}:${t.env.PATH}` });
  return {
    env,
    running: ids.slice(1).reverse(),
    ended: ids[0],
    cleanup: () => Deno.remove(dir, { recursive: true }),
  };
}

eachDaemon("completions: bash -n accepts the script, and it completes from the daemon", async (t) => {
  const f = await fixture(t);
  const file = await writeTemp(await script("bash"), ".bash");
  try {
    const syntax = await sh("bash", ["-n", file]);
    assertEquals(syntax.code, 0, syntax.stderr);
    const probe = `source '${file}'
t() { COMP_WORDS=("$@"); COMP_CWORD=$((\${#COMP_WORDS[@]} - 1)); COMPREPLY=(); _stratavore; echo "\${COMPREPLY[*]}"; }
t stratavore ru
t stratavore project ''
t stratavore stop ''
t stratavore runner ''
t stratavore launch ''
t stratavore runners --state ''
t stratavore kill --all --project w
t stratavore completions p
t stratavore runners --al
t stratavore --json st`;
    const r = await sh("bash", ["-c", probe], f.env);
    assertEquals(r.code, 0, r.stderr);
    assertEquals(r.stdout.split("\n").slice(0, -1), [
      "runners runner",
      "show set rm help",
      f.running.join(" "),
      [...f.running, f.ended].join(" "),
      "api web",
      RUNNER_STATES.join(" "),
      "web",
      "powershell",
      "--all",
      "status stop",
    ]);
  } finally {
    await Deno.remove(file);
    await f.cleanup();
  }
}, { inProcess: true, subprocesses: true, only: "pglite", ignore: !HAS.bash, ...QUIET_DAEMON });

eachDaemon("completions: zsh parses the script and completes from the daemon", async (t) => {
  const f = await fixture(t);
  const file = await writeTemp(await script("zsh"), ".zsh");
  try {
    assertEquals((await sh("zsh", ["-n", file])).code, 0);
    // compsys' builtins are stubbed to print what they were given; the script's own logic runs as is.
    const probe = `compdef() { :; }
_describe() { print -r -- "\${(@)\${(P)\${@[-1]}}%%:*}"; }
compadd() { [[ $1 == -a ]] && print -r -- "\${(P)2}"; }
_files() { print -r -- "(files)"; }
source '${file}'
t() { words=("$@"); CURRENT=\${#words}; _stratavore; }
t stratavore ru
t stratavore stop ''
t stratavore runners --project ''
t stratavore runners --state ''
t stratavore new x --path ''
t stratavore launch api -- ''`;
    const r = await sh("zsh", ["-c", probe], f.env);
    assertEquals(r.code, 0, r.stderr);
    const lines = r.stdout.split("\n");
    assertStringIncludes(lines[0], "runners runner");
    assertEquals(lines.slice(1, 6), [
      f.running.join(" "),
      "api web",
      RUNNER_STATES.join(" "),
      "(files)",
      "(files)",
    ]);
  } finally {
    await Deno.remove(file);
    await f.cleanup();
  }
}, { inProcess: true, subprocesses: true, only: "pglite", ignore: !HAS.zsh, ...QUIET_DAEMON });

eachDaemon("completions: fish parses the script and completes from the daemon", async (t) => {
  const f = await fixture(t);
  const file = await writeTemp(await script("fish"), ".fish");
  try {
    assertEquals((await sh("fish", ["-n", file])).code, 0);
    const complete = async (line: string) => {
      const r = await sh("fish", ["-c", `source '${file}'; complete -C'${line}'`], f.env);
      assertEquals(r.code, 0, r.stderr);
      return r.stdout.split("\n").filter(Boolean).map((l) => l.split("\t")[0]);
    };
    assertEquals(await complete("stratavore ru"), ["runner", "runners"]);
    assertEquals(await complete("stratavore project "), ["help", "rm", "set", "show"]);
    assertEquals(await complete("stratavore kill "), f.running.map(String).sort());
    assertEquals(await complete("stratavore logs "), [...f.running, f.ended].map(String).sort());
    assertEquals(await complete("stratavore runners --state st"), ["starting", "stopped", "stopping"]);
    assertEquals(await complete("stratavore launch w"), ["web"]);
  } finally {
    await Deno.remove(file);
    await f.cleanup();
  }
}, { inProcess: true, subprocesses: true, only: "pglite", ignore: !HAS.fish, ...QUIET_DAEMON });

Deno.test({
  name: "completions: PowerShell parses the script and registers the completer",
  ignore: !HAS.pwsh,
  async fn() {
    const file = await writeTemp(await script("powershell"), ".ps1");
    try {
      const check = `$errors = $null
[System.Management.Automation.Language.Parser]::ParseFile('${file}', [ref]$null, [ref]$errors) | Out-Null
if ($errors.Count) { $errors | ForEach-Object { Write-Error $_.Message }; exit 1 }
. '${file}'
$r = TabExpansion2 -inputScript 'stratavore ru' -cursorColumn 13
$r.CompletionMatches | ForEach-Object { $_.CompletionText }`;
      const r = await sh("pwsh", ["-NoProfile", "-NonInteractive", "-Command", check]);
      assertEquals(r.code, 0, r.stderr);
      assertEquals(r.stdout.trim().split(/\r?\n/).sort(), ["runner", "runners"]);
    } finally {
      await Deno.remove(file);
    }
  },
});
