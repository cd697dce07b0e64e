/**
 * The web dashboard's files, built by `deno task web` (web/build.ts) into web/dist and imported here as
 * text: they are part of the module graph, so `deno compile` carries them and the daemon never reads them
 * from disk.
 */
import indexHtml from "./dist/index.html" with { type: "text" };
import appJs from "./dist/app.js" with { type: "text" };
import appCss from "./dist/app.css" with { type: "text" };
import favicon from "./dist/favicon.svg" with { type: "text" };

export interface WebAsset {
  body: string;
  type: string;
}

export const WEB_ASSETS: Record<"index.html" | "app.js" | "app.css" | "favicon.svg", WebAsset> = {
  "index.html": { body: indexHtml, type: "text/html; charset=utf-8" },
  "app.js": { body: appJs, type: "text/javascript; charset=utf-8" },
  "app.css": { body: appCss, type: "text/css; charset=utf-8" },
  "favicon.svg": { body: favicon, type: "image/svg+xml" },
};
