/**
 * `deno task web`: bundles the web dashboard (web/src, Preact + htm + Chart.js) into web/dist, which
 * web/assets.ts imports as text so the daemon serves it from the program itself (`deno compile` carries it).
 * esbuild is pinned in deno.json, so the same sources give the same bytes on every machine:
 * tests/web/bundle_test.ts rebuilds in memory and checks that the committed web/dist is current.
 *
 *   deno task web            write web/dist
 *   deno task web --check    exit 1 when web/dist is not what the sources build to
 */
import * as esbuild from "esbuild";

const WEB = new URL("./", import.meta.url);
const path = (rel: string) => decodeURIComponent(new URL(rel, WEB).pathname);

const BANNER = "/*! Stratavore web dashboard (web/src). Bundled: preact (MIT), htm (Apache-2.0), " +
  "chart.js (MIT), @kurkle/color (MIT), @xterm/xterm (MIT). */";

/** The files of web/dist, by name, as the current sources build them. */
export async function buildWeb(): Promise<Record<string, string>> {
  try {
    const common = {
      bundle: true,
      minify: true,
      write: false,
      charset: "utf8",
      legalComments: "none",
      absWorkingDir: path("."),
      logLevel: "silent",
    } as const;
    const [js, css] = await Promise.all([
      esbuild.build({
        ...common,
        entryPoints: [path("src/main.ts")],
        format: "iife",
        target: ["es2022", "chrome111", "firefox111", "safari16"],
        banner: { js: BANNER },
        define: { "process.env.NODE_ENV": '"production"' },
      }),
      esbuild.build({
        ...common,
        entryPoints: [path("src/styles.css")],
        target: ["chrome111", "safari16"],
        loader: { ".svg": "dataurl" },
      }),
    ]);
    return {
      "app.js": js.outputFiles[0].text,
      "app.css": css.outputFiles[0].text,
      "index.html": await Deno.readTextFile(path("src/index.html")),
      "favicon.svg": await Deno.readTextFile(path("src/favicon.svg")),
    };
  } finally {
    await esbuild.stop();
  }
}

/** Names of the web/dist files that differ from a fresh build (missing ones included). */
export async function staleFiles(built: Record<string, string>): Promise<string[]> {
  const stale: string[] = [];
  for (const [name, text] of Object.entries(built)) {
    let current: string | undefined;
    try {
      current = await Deno.readTextFile(path(`dist/${name}`));
    } catch { /* missing */ }
    if (current !== text) stale.push(name);
  }
  return stale;
}

if (import.meta.main) {
  const built = await buildWeb();
  if (Deno.args.includes("--check")) {
    const stale = await staleFiles(built);
    if (stale.length) {
      console.error(`web/dist is out of date (${stale.join(", ")}): run "deno task web"`);
      Deno.exit(1);
    }
    console.log("web/dist is current");
  } else {
    await Deno.mkdir(path("dist"), { recursive: true });
    for (const [name, text] of Object.entries(built)) {
      await Deno.writeTextFile(path(`dist/${name}`), text);
      console.log(`web/dist/${name}  ${(new TextEncoder().encode(text).length / 1024).toFixed(1)} KiB`);
    }
  }
}
