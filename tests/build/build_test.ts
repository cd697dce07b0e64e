import { assert, assertEquals, assertMatch, assertThrows } from "../helpers/assert.ts";
import { baseEnv } from "../helpers/cli.ts";
import { FAST_TIER, REPO } from "../helpers/env.ts";
import { removeDir, tempDir } from "../helpers/fs.ts";
import {
  artifactName,
  compileArgs,
  denortFailure,
  findNativeAddons,
  hostTarget,
  LAZY_LOADERS,
  lazyModules,
  npmPlatform,
  parseBuildArgs,
  PERMISSIONS,
  programLazyModules,
  sha256sums,
  TARGETS,
} from "../../build/targets.ts";

Deno.test("build: no --target means all five; --target is repeatable and comma-separated", () => {
  assertEquals(parseBuildArgs([]).targets, [...TARGETS]);
  assertEquals(parseBuildArgs([]).out, "dist");
  const picked = parseBuildArgs([
    "--target",
    "x86_64-pc-windows-msvc,aarch64-apple-darwin",
    "--target=x86_64-unknown-linux-gnu",
    "--out",
    "/tmp/x",
  ]);
  // In TARGETS order, whatever order they were asked in.
  assertEquals(picked.targets, [
    "x86_64-unknown-linux-gnu",
    "aarch64-apple-darwin",
    "x86_64-pc-windows-msvc",
  ]);
  assertEquals(picked.out, "/tmp/x");
  assertThrows(() => parseBuildArgs(["--target", "riscv64-unknown-linux-gnu"]), Error, "unknown target");
  assertThrows(() => parseBuildArgs(["--frobnicate"]));
});

Deno.test("build: each target is compiled from an npm install for its own system", () => {
  assertEquals(TARGETS.map(npmPlatform), [
    { os: "linux", arch: "x64" },
    { os: "linux", arch: "arm64" },
    { os: "darwin", arch: "x64" },
    { os: "darwin", arch: "arm64" },
    { os: "win32", arch: "x64" },
  ]);
  assertEquals(hostTarget("linux", "x86_64"), "x86_64-unknown-linux-gnu");
  assertEquals(hostTarget("darwin", "aarch64"), "aarch64-apple-darwin");
  assertEquals(hostTarget("windows", "x86_64"), "x86_64-pc-windows-msvc");
  assertEquals(hostTarget("freebsd", "x86_64"), undefined);
});

Deno.test("build: artifact names carry version and target, .exe only on Windows", () => {
  assertEquals(
    artifactName("1.2.3", "x86_64-unknown-linux-gnu"),
    "stratavore-1.2.3-x86_64-unknown-linux-gnu",
  );
  assertEquals(
    artifactName("1.2.3", "x86_64-pc-windows-msvc"),
    "stratavore-1.2.3-x86_64-pc-windows-msvc.exe",
  );
});

Deno.test("build: compile flags list the permissions (no -A), self-extract only with native add-ons", () => {
  const plain = compileArgs({
    target: "aarch64-apple-darwin",
    output: "dist/x",
    entry: "main.ts",
    nativeAddons: false,
  });
  assertEquals(plain, [
    "compile",
    ...PERMISSIONS,
    "--v8-flags=--no-memory-reducer,--liftoff-only",
    "--target",
    "aarch64-apple-darwin",
    "--output",
    "dist/x",
    "main.ts",
  ]);
  assertEquals([...PERMISSIONS].sort(), [
    "--allow-env",
    "--allow-net",
    "--allow-read",
    "--allow-run",
    "--allow-sys",
    "--allow-write",
  ]);
  assert(!plain.includes("-A") && !plain.includes("--allow-all"));
  const native = compileArgs({
    target: "aarch64-apple-darwin",
    output: "o",
    entry: "main.ts",
    nativeAddons: true,
  });
  assert(native.includes("--self-extracting") && native.includes("--allow-ffi"), native.join(" "));
});

Deno.test("build: every module main.ts and the command tree load lazily is --include'd, and neither has a literal dynamic import", async () => {
  const lazy = await programLazyModules(REPO);
  assert(lazy.length >= 25, `main.ts and cli/program.ts load ${lazy.length} modules lazily`);
  for (const m of ["./cli/program.ts", "./agent/foreground.ts", "./daemon/main.ts", "./agent/main.ts"]) {
    assert(lazy.includes(m), `${m} in ${lazy.join(" ")}`);
  }
  for (const m of lazy) assert((await Deno.stat(`${REPO}/${m.slice(2)}`)).isFile, m);
  for (const file of LAZY_LOADERS) {
    // A literal import("./…") would be walked at every start again (and is embedded without --include).
    const source = await Deno.readTextFile(`${REPO}/${file}`);
    assertEquals(
      source.match(/(?<!typeof )\bimport\("\.\.?\//g) ?? [],
      [],
      `literal dynamic imports in ${file}`,
    );
  }
  const args = compileArgs({
    target: "x86_64-unknown-linux-gnu",
    output: "o",
    entry: "main.ts",
    nativeAddons: false,
    include: lazy,
  });
  assertEquals(args.filter((a) => a === "--include").length, lazy.length);
  assertEquals(args.at(-1), "main.ts", "the entry comes last");
  assert(lazyModules('lazy<typeof import("./a.ts")>("./a.ts")').length === 1);
  assertEquals(lazyModules('lazy<typeof import("../a/b.ts")>("../a/b.ts")', "cli/program.ts"), ["./a/b.ts"]);
  assertThrows(
    () => lazyModules('lazy<typeof import("./a.ts")>("./b.ts")'),
    Error,
    "lazy loads ./b.ts typed as ./a.ts",
  );
});

Deno.test("build: deno.json keeps the bintrees exclude that deno compile reads itself", async () => {
  const config = JSON.parse(await Deno.readTextFile(`${REPO}/deno.json`));
  assert(
    config.compile.exclude.includes("node_modules/.deno/bintrees@1.0.2/node_modules/bintrees/test"),
    "compile.exclude keeps bintrees/test out (denoland/deno#36746)",
  );
});

Deno.test("build: native add-ons are found by their .node files", async () => {
  const dir = await tempDir();
  try {
    assertEquals(findNativeAddons(`${dir}/missing`), []);
    await Deno.mkdir(`${dir}/plain@1.0.0/node_modules/plain/lib`, { recursive: true });
    await Deno.writeTextFile(`${dir}/plain@1.0.0/node_modules/plain/lib/index.js`, "");
    assertEquals(findNativeAddons(dir), []);
    const addon = `${dir}/@lydell+node-pty@1.0.0/node_modules/@lydell/node-pty/build/Release`;
    await Deno.mkdir(addon, { recursive: true });
    await Deno.writeTextFile(`${addon}/pty.node`, "");
    assertEquals(findNativeAddons(dir), [`${addon}/pty.node`]);
  } finally {
    await removeDir(dir);
  }
});

Deno.test("build: SHA256SUMS is sha256sum's format, and sha256sum -c accepts it", async () => {
  const text = sha256sums([{ name: "b", sha256: "2".repeat(64) }, { name: "a", sha256: "1".repeat(64) }]);
  assertEquals(text, `${"1".repeat(64)}  a\n${"2".repeat(64)}  b\n`);
  const dir = await tempDir();
  try {
    const files = [];
    for (const [name, body] of [["stratavore-x", "one"], ["stratavore-y.exe", "two"]]) {
      await Deno.writeTextFile(`${dir}/${name}`, body);
      const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(body));
      files.push({
        name,
        sha256: [...new Uint8Array(digest)].map((b) => b.toString(16).padStart(2, "0")).join(""),
      });
    }
    await Deno.writeTextFile(`${dir}/SHA256SUMS`, sha256sums(files));
    const check = await new Deno.Command("sha256sum", {
      args: ["-c", "SHA256SUMS"],
      cwd: dir,
      stdout: "piped",
    })
      .output().catch(() => undefined);
    if (check) {
      assertEquals(check.code, 0);
      assertMatch(new TextDecoder().decode(check.stdout), /stratavore-x: OK\nstratavore-y\.exe: OK/);
    }
  } finally {
    await removeDir(dir);
  }
});

// What deno 2.9.6 printed here when dl.deno.land could not be reached (colour codes removed).
const OFFLINE = `Compile main.ts to dist/x
Download https://dl.deno.land/release/v2.9.6/denort-x86_64-unknown-linux-gnu.zip
error: Writing deno compile executable to temporary file 'dist/x.tmp-c05c56c2bac4975e'

Caused by:
    0: Setting up base binary.
    1: error sending request for url (https://dl.deno.land/release/v2.9.6/denort-x86_64-unknown-linux-gnu.zip): client error (Connect): dns error: failed to lookup address information: Name or service not known
    2: client error (Connect)
`;

Deno.test("build: a denort download failure becomes one line naming both fixes", () => {
  const line = denortFailure(OFFLINE, "x86_64-unknown-linux-gnu")!;
  assertEquals(line.split("\n").length, 1);
  assertMatch(line, /could not fetch denort \(https:\/\/dl\.deno\.land\/release\/v2\.9\.6\/denort-x86_64/);
  assertMatch(line, /network access to dl\.deno\.land/);
  assertMatch(line, /set DENORT_BIN to a denort binary for x86_64-unknown-linux-gnu/);
  assertMatch(
    denortFailure("0: Could not find denort at '/nope'\n", "x86_64-pc-windows-msvc")!,
    /DENORT_BIN=\/nope does not exist/,
  );
  assertEquals(denortFailure("error: Type checking failed.\n", "x86_64-pc-windows-msvc"), undefined);
});

/** denort already in Deno's cache (a machine that built before) would make the download succeed. */
async function denortCached(): Promise<boolean> {
  const out = await new Deno.Command(Deno.execPath(), { args: ["info", "--json"], stdout: "piped" }).output();
  const { denoDir } = JSON.parse(new TextDecoder().decode(out.stdout));
  try {
    await Deno.stat(`${denoDir}/dl`);
    return true;
  } catch {
    return false;
  }
}

Deno.test({
  name: "build: `deno task build` without denort fails with one clear line and leaves the out dir empty",
  ignore: FAST_TIER || await denortCached(),
  async fn() {
    const out = await tempDir("stratavore-dist-");
    try {
      const r = await new Deno.Command(Deno.execPath(), {
        args: ["task", "build", "--target", "x86_64-unknown-linux-gnu", "--out", out],
        cwd: REPO,
        // A closed local port as proxy: the download fails the same way with or without network.
        env: baseEnv({ HTTPS_PROXY: "http://127.0.0.1:9", HTTP_PROXY: "http://127.0.0.1:9" }),
        clearEnv: true,
        stdout: "piped",
        stderr: "piped",
      }).output();
      // deno-lint-ignore no-control-regex
      const stderr = new TextDecoder().decode(r.stderr).replace(/\x1b\[[0-9;]*m/g, "");
      assert(r.code !== 0, "the build fails");
      // deno task announces the command it runs; everything else on stderr is build.ts's one line.
      const lines = stderr.trim().split("\n").filter((l) => !l.startsWith("Task build "));
      assertEquals(lines.length, 1, stderr);
      assertMatch(lines[0], /^build: could not fetch denort .*dl\.deno\.land.*DENORT_BIN/);
      assertEquals([...Deno.readDirSync(out)].map((e) => e.name), []);
    } finally {
      await removeDir(out);
    }
  },
});
