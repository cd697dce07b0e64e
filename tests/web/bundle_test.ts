/**
 * The committed bundle (web/dist) is what the sources (web/src) build to, and it is what the daemon
 * embeds: a change to web/src without `deno task web` fails here.
 */
import { WEB_ASSETS } from "../../web/assets.ts";
import { buildWeb, staleFiles } from "../../web/build.ts";
import { assert, assertEquals } from "../helpers/assert.ts";

Deno.test("web bundle: web/dist is current (run `deno task web` after changing web/src)", async () => {
  const built = await buildWeb();
  assertEquals(await staleFiles(built), [], "stale files in web/dist");
  for (const [name, asset] of Object.entries(WEB_ASSETS)) {
    assertEquals(asset.body, built[name], `the daemon embeds the built ${name}`);
  }
});

Deno.test("web bundle: the page loads nothing from elsewhere", () => {
  const html = WEB_ASSETS["index.html"].body;
  const css = WEB_ASSETS["app.css"].body;
  const js = WEB_ASSETS["app.js"].body;
  assert(!/(src|href)="(https?:)?\/\//.test(html), "index.html names no other origin");
  assert(!/url\((["']?)(https?:)?\/\//.test(css), "app.css loads no remote file");
  assert(!/@import/.test(css), "app.css imports nothing");
  assert(!/fonts\.googleapis|cdn\.jsdelivr|unpkg\.com|cdnjs/.test(js + css + html), "no CDN");
  assert(!/<script>|<style>|style="/.test(html), "no inline script or style (the CSP forbids them)");
});
