/**
 * The dashboard comes from the program, not from files: with reads limited to its home and node_modules
 * (what a compiled binary has, as in tests/build/compile_safety_test.ts) the daemon still serves the page
 * and every asset, byte for byte what web/dist holds.
 */
import { WEB_ASSETS } from "../../web/assets.ts";
import { assert, assertEquals } from "../helpers/assert.ts";
import { startDaemon } from "../helpers/daemon.ts";
import { FAST_TIER, REPO } from "../helpers/env.ts";
import { diskTempDir, removeDir } from "../helpers/fs.ts";

function flags(home: string): string[] {
  const tmp = Deno.realPathSync(Deno.env.get("TMPDIR") ?? "/tmp");
  const repo = Deno.realPathSync(REPO);
  const tmpHoldsRepo = repo === tmp || repo.startsWith(tmp + "/");
  return [
    `--allow-read=${[home, `${REPO}/node_modules`, ...(tmpHoldsRepo ? [] : [tmp])].join(",")}`,
    `--allow-write=${home},${tmp}`,
    "--allow-net=127.0.0.1",
    "--allow-env",
    "--allow-sys",
    "--allow-run",
  ];
}

Deno.test({
  name: "web assets: served from the module graph, without reading the repository",
  ignore: FAST_TIER,
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    const home = await diskTempDir("stratavore-home-");
    try {
      const daemon = await startDaemon({ home, denoFlags: flags(home) });
      const paths: [string, keyof typeof WEB_ASSETS][] = [
        ["/", "index.html"],
        ["/ui/login", "index.html"],
        ["/ui/app.js", "app.js"],
        ["/ui/app.css", "app.css"],
        ["/ui/favicon.svg", "favicon.svg"],
      ];
      for (const [path, name] of paths) {
        const res = await fetch(`${daemon.url}${path}`);
        assertEquals(res.status, 200, path);
        assertEquals(res.headers.get("content-type"), WEB_ASSETS[name].type, path);
        assertEquals(await res.text(), WEB_ASSETS[name].body, path);
      }
      assertEquals(await daemon.stop(), 0);
      const text = daemon.logs().join("\n");
      assert(!/NotCapable|Requires read access/.test(text), text);
    } finally {
      await removeDir(home);
    }
  },
});
