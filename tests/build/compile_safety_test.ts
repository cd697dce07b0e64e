/**
 * A compiled binary carries the module graph and node_modules, nothing else of the repository: a run-time
 * read of a source file (a migration read from disk instead of imported as text, say) works under
 * `deno run` and breaks only in the release binary. Running the real entrypoint with --allow-read limited
 * to what a binary has anyway (its home, the temp folder, node_modules) turns such a read into a failure here.
 */
import { assert, assertEquals, assertMatch } from "../helpers/assert.ts";
import { runStratavore } from "../helpers/cli.ts";
import { startDaemon } from "../helpers/daemon.ts";
import { FAST_TIER, REPO } from "../helpers/env.ts";
import { diskTempDir, removeDir } from "../helpers/fs.ts";
import { binaryFlags } from "../helpers/binary.ts";

Deno.test("compile safety: the permissions really keep source files out of reach", async () => {
  const home = await diskTempDir("stratavore-home-");
  try {
    // Control: the same flags on a script that reads a repository file no module imports must fail.
    const probe = `${home}/probe.ts`;
    await Deno.writeTextFile(
      probe,
      `await Deno.readTextFile(${JSON.stringify(`${REPO}/README.md`)});`,
    );
    const r = await new Deno.Command(Deno.execPath(), {
      args: ["run", ...binaryFlags(home), "--no-prompt", probe],
      stdout: "piped",
      stderr: "piped",
    }).output();
    assert(!r.success, "reading a repository file is refused");
    assertMatch(new TextDecoder().decode(r.stderr), /NotCapable|Requires read access/);
  } finally {
    await removeDir(home);
  }
});

Deno.test("compile safety: --help and config run without reading the repository", async () => {
  const home = await diskTempDir("stratavore-home-");
  try {
    const opts = { env: { STRATAVORE_HOME: home }, denoFlags: binaryFlags(home) };
    const help = await runStratavore(["--help"], opts);
    assertEquals(help.code, 0, help.stderr);
    assertMatch(help.stdout, /daemon/);
    const daemonHelp = await runStratavore(["daemon", "--help"], opts);
    assertEquals(daemonHelp.code, 0, daemonHelp.stderr);
    const config = await runStratavore(["--json", "config"], opts);
    assertEquals(config.code, 0, config.stderr);
    assertEquals(JSON.parse(config.stdout).settings.home.value, home);
  } finally {
    await removeDir(home);
  }
});

Deno.test({
  name: "compile safety: the daemon starts, migrates, answers and stops without reading the repository",
  ignore: FAST_TIER,
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    const home = await diskTempDir("stratavore-home-");
    try {
      const daemon = await startDaemon({ home, denoFlags: binaryFlags(home) });
      const res = await fetch(`${daemon.url}/healthz`);
      assertEquals(res.status, 200);
      await res.body?.cancel();
      assertEquals(await daemon.stop(), 0);
      const text = daemon.logs().join("\n");
      assert(!/NotCapable|Requires read access/.test(text), text);
    } finally {
      await removeDir(home);
    }
  },
});
