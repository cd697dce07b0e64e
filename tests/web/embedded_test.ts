/**
 * The dashboard comes from the program, not from files: with reads limited to its home and node_modules
 * and the modules it embeds (what a compiled binary has: tests/helpers/binary.ts) the daemon still serves
 * the page and every asset, byte for byte what web/assets.ts embeds.
 */
import { WEB_ASSETS } from "../../web/assets.ts";
import { assert, assertEquals } from "../helpers/assert.ts";
import { startDaemon } from "../helpers/daemon.ts";
import { FAST_TIER } from "../helpers/env.ts";
import { binaryFlags } from "../helpers/binary.ts";
import { diskTempDir, removeDir } from "../helpers/fs.ts";

Deno.test({
  name: "web assets: served from the module graph, without reading the repository",
  ignore: FAST_TIER,
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    const home = await diskTempDir("stratavore-home-");
    try {
      const daemon = await startDaemon({ home, denoFlags: binaryFlags(home) });
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
