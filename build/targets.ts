/**
 * The pure parts of `deno task build`: targets, file names, `deno compile` flags, the checksum file and
 * recognising a denort download failure. build.ts only runs them, so they are unit tested without compiling.
 */
import { parseArgs } from "node:util";
import { V8_FLAGS } from "../lib/self.ts";

export const TARGETS = [
  "x86_64-unknown-linux-gnu",
  "aarch64-unknown-linux-gnu",
  "x86_64-apple-darwin",
  "aarch64-apple-darwin",
  "x86_64-pc-windows-msvc",
] as const;
export type Target = typeof TARGETS[number];

/**
 * npm's names for a target's system, for `deno install --os --arch`: packages with native parts
 * (node-pty's prebuilt add-on, esbuild) ship one optional package per system, and node_modules holds only
 * the installed system's, so each target is compiled from an install for that target.
 */
export function npmPlatform(target: Target): { os: "linux" | "darwin" | "win32"; arch: "x64" | "arm64" } {
  const arch = target.startsWith("aarch64") ? "arm64" : "x64";
  const os = target.includes("linux") ? "linux" : target.includes("apple") ? "darwin" : "win32";
  return { os, arch };
}

/** The target this machine runs (so the build can put node_modules back as it found it). */
export function hostTarget(os = Deno.build.os, arch = Deno.build.arch): Target | undefined {
  const cpu = arch === "aarch64" ? "aarch64" : "x86_64";
  const found = TARGETS.find((t) =>
    t.startsWith(cpu) &&
    (os === "linux"
      ? t.includes("linux")
      : os === "darwin"
      ? t.includes("apple")
      : os === "windows" && t.includes("windows"))
  );
  return found;
}

/**
 * What the program does at run time: HTTP servers and clients (net), its home and projects (read, write),
 * settings (env), `claude`, systemctl and itself (run), hostname and OS facts (sys). Listed rather than
 * `-A` so a compiled binary never silently gains FFI or anything new; native add-ons add --allow-ffi below.
 */
export const PERMISSIONS = [
  "--allow-net",
  "--allow-read",
  "--allow-write",
  "--allow-env",
  "--allow-run",
  "--allow-sys",
] as const;

export interface BuildArgs {
  targets: Target[];
  out: string;
  help: boolean;
}

/** `--target a --target b,c` and `--out dir`; no target means every target. Throws on a bad value. */
export function parseBuildArgs(argv: string[]): BuildArgs {
  const { values } = parseArgs({
    args: argv,
    options: {
      target: { type: "string", multiple: true },
      out: { type: "string" },
      help: { type: "boolean", short: "h" },
    },
    strict: true,
    allowPositionals: false,
  });
  const asked = (values.target ?? []).flatMap((t) => t.split(",")).map((t) => t.trim()).filter(Boolean);
  for (const t of asked) {
    if (!(TARGETS as readonly string[]).includes(t)) {
      throw new Error(`unknown target "${t}": use one of ${TARGETS.join(", ")}`);
    }
  }
  const targets = asked.length ? TARGETS.filter((t) => asked.includes(t)) : [...TARGETS];
  return { targets, out: values.out ?? "dist", help: values.help === true };
}

export function artifactName(version: string, target: Target): string {
  return `stratavore-${version}-${target}${target.includes("windows") ? ".exe" : ""}`;
}

export interface CompileOptions {
  target: Target;
  output: string;
  entry: string;
  /** Native (.node) add-ons are in node_modules: they must be extracted to disk to be loaded. */
  nativeAddons: boolean;
  /** Modules main.ts loads by a specifier made at run time (lazyModules): deno compile cannot see them. */
  include?: string[];
}

/** The modules that load others through `lazy()`: the dispatch and the command tree. */
export const LAZY_LOADERS = ["main.ts", "cli/program.ts"];

/**
 * The modules a file (`file`, relative to the program's root) loads through
 * `lazy<typeof import("./x.ts")>("./x.ts")`: command modules kept out of Deno's start-up graph walk. deno
 * compile must be told of them (--include). Paths come back relative to the root ("./daemon/main.ts").
 */
export function lazyModules(source: string, file = "main.ts"): string[] {
  const found = [...source.matchAll(/lazy<typeof import\("(\.\.?\/[^"]+)"\)>\("(\.\.?\/[^"]+)"\)/g)];
  const uses = source.match(/lazy<typeof import\(/g)?.length ?? 0;
  if (uses !== found.length) throw new Error(`${file}: ${uses - found.length} lazy loads not on one line`);
  for (const m of found) {
    if (m[1] !== m[2]) throw new Error(`${file}: lazy loads ${m[2]} typed as ${m[1]}`);
  }
  const base = new URL(file, "file:///root/");
  return [...new Set(found.map((m) => `.${new URL(m[2], base).pathname.slice("/root".length)}`))].sort();
}

/** Every module the program loads lazily, from LAZY_LOADERS under `root`. */
export async function programLazyModules(root: string): Promise<string[]> {
  const all = await Promise.all(
    LAZY_LOADERS.map(async (f) => lazyModules(await Deno.readTextFile(`${root}/${f}`), f)),
  );
  return [...new Set(all.flat())].sort();
}

/**
 * The `deno compile` arguments for one target. deno.json's `compile.exclude` is read by deno compile
 * itself (checked: without it bintrees' test/perf/100k overflows the stack, denoland/deno#36746), so it
 * is not repeated here; migrations are text imports; the command modules main.ts loads lazily are
 * `--include`d.
 */
export function compileArgs(o: CompileOptions): string[] {
  return [
    "compile",
    ...PERMISSIONS,
    // Node-API add-ons (node-pty) load through process.dlopen, which Deno gates behind --allow-ffi
    // (measured: "NotCapable: Requires ffi access"), and are dlopen()ed from a real file:
    // --self-extracting unpacks the embedded files to disk on first run.
    ...(o.nativeAddons ? ["--allow-ffi", "--self-extracting"] : []),
    `--v8-flags=${V8_FLAGS.join(",")}`,
    "--target",
    o.target,
    "--output",
    o.output,
    ...(o.include ?? []).flatMap((m) => ["--include", m]),
    o.entry,
  ];
}

/** `sha256sum` format (two spaces: text mode), sorted by name, so `sha256sum -c SHA256SUMS` checks it. */
export function sha256sums(files: { name: string; sha256: string }[]): string {
  return [...files].sort((a, b) => a.name < b.name ? -1 : a.name > b.name ? 1 : 0)
    .map((f) => `${f.sha256}  ${f.name}\n`).join("");
}

/**
 * One line for a failed denort download (deno compile fetches the runtime per target from dl.deno.land),
 * or undefined for any other failure. Matches what deno 2.9 prints: "Setting up base binary" followed by
 * "error sending request for url (https://dl.deno.land/release/vX/denort-<target>.zip)".
 */
export function denortFailure(stderr: string, target: string): string | undefined {
  // deno colours its output; the escapes would break the patterns.
  // deno-lint-ignore no-control-regex
  const text = stderr.replace(/\x1b\[[0-9;]*m/g, "");
  const missing = /Could not find denort at '([^']*)'/.exec(text);
  if (missing) return `DENORT_BIN=${missing[1]} does not exist: point it at a denort binary for ${target}`;
  if (!/Setting up base binary/.test(text) && !/denort-[\w-]+\.zip/.test(text)) return undefined;
  const url = /https:\/\/\S+\/denort-[\w-]+\.zip/.exec(text)?.[0] ?? `denort for ${target}`;
  return `could not fetch denort (${url}): give this machine network access to dl.deno.land, ` +
    `or set DENORT_BIN to a denort binary for ${target}`;
}

/** Every `.node` file under node_modules/.deno/<package>/ (symlinks to other packages are not followed). */
export function findNativeAddons(denoModules: string): string[] {
  const found: string[] = [];
  const walk = (dir: string) => {
    let entries: Deno.DirEntry[];
    try {
      entries = [...Deno.readDirSync(dir)];
    } catch {
      return;
    }
    for (const e of entries) {
      const path = `${dir}/${e.name}`;
      if (e.isDirectory) walk(path);
      else if (e.isFile && e.name.endsWith(".node")) found.push(path);
    }
  };
  walk(denoModules);
  return found.sort();
}
