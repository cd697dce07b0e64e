/**
 * Runs the real entrypoint with the reads a compiled binary has: its home, node_modules and the modules it
 * embeds. A run-time read of any other repository file (a migration read from disk instead of imported as
 * text, say) works under `deno run` and breaks only in the release binary; with these flags it fails here.
 */
import { lazyModules } from "../../build/targets.ts";
import { REPO } from "./env.ts";

/**
 * Measured: deno's own start-up reads (deno.json, deno.lock, DENO_DIR's caches) are not gated by
 * --allow-read, so nothing beyond these is needed. node_modules is: PGlite reads its pglite.data and .wasm
 * from its package at run time (a binary carries them). The system temp folder is left out when the repository
 * itself lies inside it (a CI clone under /tmp): allowing it would allow every source file too.
 */
function readable(home: string): string[] {
  const tmp = Deno.realPathSync(Deno.env.get("TMPDIR") ?? "/tmp");
  const repo = Deno.realPathSync(REPO);
  const tmpHoldsRepo = repo === tmp || repo.startsWith(tmp + "/");
  return [home, `${REPO}/node_modules`, ...embeddedModules(), ...(tmpHoldsRepo ? [] : [tmp])];
}

let embedded: string[] | undefined;

/**
 * The repository's source modules a binary embeds: main.ts's graph and that of every module it loads
 * lazily (a specifier made at run time, which deno run checks against --allow-read; deno compile gets them
 * through --include). Files they import as text (migrations, the web bundle) are among them: deno run
 * checks what a lazily loaded module imports against --allow-read too. Any other file read at run time fails.
 */
function embeddedModules(): string[] {
  if (embedded) return embedded;
  const roots = ["./main.ts", ...lazyModules(Deno.readTextFileSync(`${REPO}/main.ts`))];
  const graph = `${Deno.makeTempDirSync()}/graph.ts`;
  Deno.writeTextFileSync(
    graph,
    roots.map((m) => `import "${new URL(m, `file://${REPO}/`).href}";\n`).join(""),
  );
  const out = new Deno.Command(Deno.execPath(), {
    args: ["info", "--json", "--config", `${REPO}/deno.json`, graph],
    cwd: REPO,
    stdout: "piped",
    stderr: "inherit",
  }).outputSync();
  Deno.removeSync(graph);
  const info = JSON.parse(new TextDecoder().decode(out.stdout)) as { modules: { specifier: string }[] };
  embedded = info.modules.map((m) => m.specifier).filter((s) => s.startsWith(`file://${REPO}/`))
    .map((s) => decodeURIComponent(new URL(s).pathname));
  return embedded;
}

export function binaryFlags(home: string): string[] {
  const tmp = Deno.env.get("TMPDIR") ?? "/tmp";
  return [
    `--allow-read=${readable(home).join(",")}`,
    `--allow-write=${home},${tmp}`,
    "--allow-net=127.0.0.1",
    "--allow-env",
    "--allow-sys",
    "--allow-run",
  ];
}
