/**
 * `deno task build [--target T[,T…]]… [--out DIR]`: compiles main.ts into one self-contained binary per
 * target, `stratavore-<version>-<target>[.exe]`, then writes SHA256SUMS. The version is deno.json's (which
 * lib/version.ts must equal; a test checks). DENORT_BIN, when set, reaches deno compile through the inherited
 * environment. On failure every file this run made is removed, so dist/ never holds a partial build.
 */
import { createHash } from "node:crypto";
import {
  artifactName,
  compileArgs,
  denortFailure,
  findNativeAddons,
  hostTarget,
  npmPlatform,
  parseBuildArgs,
  programLazyModules,
  sha256sums,
  type Target,
  TARGETS,
} from "./build/targets.ts";

const ROOT = import.meta.dirname!;
const SEP = Deno.build.os === "windows" ? "\\" : "/";

function fail(line: string): never {
  console.error(`build: ${line}`);
  Deno.exit(1);
}

async function sha256(path: string): Promise<string> {
  const hash = createHash("sha256");
  // Streamed: a binary is ~100 MB. Reading the stream to its end closes the file.
  for await (const chunk of (await Deno.open(path)).readable) hash.update(chunk);
  return hash.digest("hex");
}

/** The output and the `<output>.tmp-*` file deno compile writes first (a crash can leave it behind). */
function removeOutput(dir: string, name: string): void {
  for (const e of Deno.readDirSync(dir)) {
    if (e.name === name || e.name.startsWith(`${name}.tmp-`)) Deno.removeSync(`${dir}${SEP}${e.name}`);
  }
}

const args = (() => {
  try {
    return parseBuildArgs(Deno.args);
  } catch (e) {
    return fail((e as Error).message);
  }
})();
if (args.help) {
  console.log(`usage: deno task build [--target T[,T...]]... [--out DIR]\ntargets: ${TARGETS.join(", ")}`);
  Deno.exit(0);
}

const version: string = JSON.parse(Deno.readTextFileSync(`${ROOT}/deno.json`)).version;
// `deno task` runs in the repository; INIT_CWD is where the user typed it, which a relative --out means.
const base = Deno.env.get("INIT_CWD") ?? Deno.cwd();
const out = /^([\\/]|[A-Za-z]:)/.test(args.out) ? args.out : `${base}${SEP}${args.out}`;
const denort = Deno.env.get("DENORT_BIN");
if (denort && args.targets.length > 1) {
  fail(`DENORT_BIN is one target's runtime: choose that target with --target (asked: ${args.targets})`);
}

console.log(`stratavore ${version}: ${args.targets.length} target(s) into ${out}`);
if (denort) console.log(`using DENORT_BIN=${denort}`);

/** `deno install` for a target's system (its native npm packages), or for this machine's without one. */
async function installFor(target: Target | undefined): Promise<void> {
  const platform = target ? npmPlatform(target) : undefined;
  const result = await new Deno.Command(Deno.execPath(), {
    args: ["install", "--quiet", ...(platform ? ["--os", platform.os, "--arch", platform.arch] : [])],
    cwd: ROOT,
    stdout: "piped",
    stderr: "piped",
  }).output();
  if (!result.success) {
    const why = new TextDecoder().decode(result.stderr).trim().split("\n").at(-1);
    throw new Error(
      `could not install the npm packages for ${
        target ?? "this machine"
      } (${why}): the npm registry must be reachable`,
    );
  }
}

Deno.mkdirSync(out, { recursive: true });
const made: string[] = [];
const host = hostTarget();
let installed: Target | undefined = host;
try {
  for (const target of args.targets) {
    if (target !== installed) {
      const p = npmPlatform(target);
      console.log(`  npm packages for ${p.os}/${p.arch} (deno install --os ${p.os} --arch ${p.arch})`);
      await installFor(target);
      installed = target;
    }
    made.push(await compile(target));
  }
} catch (e) {
  for (const n of made) removeOutput(out, n);
  await restore();
  fail((e as Error).message);
}
await restore();

/** node_modules back to this machine's packages, whatever happened. */
async function restore(): Promise<void> {
  if (installed === host) return;
  await installFor(undefined).catch((e) => console.error(`build: ${(e as Error).message}`));
  installed = host;
}

/** Compiles one target; on failure removes what it wrote and throws the one line to print. */
async function compile(target: Target): Promise<string> {
  const name = artifactName(version, target);
  const started = Date.now();
  // Scanned per target: each is compiled from its own system's npm install.
  const addons = findNativeAddons(`${ROOT}/node_modules/.deno`);
  if (addons.length) {
    console.log(`  native add-ons (${addons.length}, e.g. ${addons[0]}): --self-extracting --allow-ffi`);
  }
  const result = await new Deno.Command(Deno.execPath(), {
    args: compileArgs({
      target,
      output: `${out}${SEP}${name}`,
      entry: `${ROOT}/main.ts`,
      nativeAddons: addons.length > 0,
      include: await programLazyModules(ROOT),
    }),
    cwd: ROOT,
    stdout: "piped",
    stderr: "piped",
  }).output();
  if (!result.success) {
    removeOutput(out, name);
    const stderr = new TextDecoder().decode(result.stderr);
    const denortLine = denortFailure(stderr, target);
    if (denortLine) throw new Error(denortLine);
    console.error(stderr.trimEnd());
    throw new Error(`deno compile failed for ${target}`);
  }
  const mb = Deno.statSync(`${out}${SEP}${name}`).size / 1e6;
  console.log(`  ${name}  ${mb.toFixed(1)} MB  ${((Date.now() - started) / 1000).toFixed(1)} s`);
  return name;
}

const sums = [];
for (const name of made) sums.push({ name, sha256: await sha256(`${out}${SEP}${name}`) });
Deno.writeTextFileSync(`${out}${SEP}SHA256SUMS`, sha256sums(sums));
console.log(`  SHA256SUMS (${made.length} file(s))`);
