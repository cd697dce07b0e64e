/**
 * `stratavore ui`: a one-time sign-in link for the web dashboard, printed and opened in the default
 * browser when this machine has one (BROWSER, else xdg-open with a display, open on macOS, start on
 * Windows). The link carries a single-use code valid for a few minutes, never the admin token.
 *
 * The code never goes on a command line: every local user can read a process's arguments
 * (/proc/<pid>/cmdline), and could exchange the code first. The opener is given a small page in the private
 * home (0600 in a 0700 folder) that forwards the browser to the link.
 */
import { type UiLink, uiLink } from "../../lib/schemas/ui.ts";
import { which } from "../../lib/which.ts";
import { homePath } from "../../lib/home.ts";
import { ensurePrivateDir } from "../../lib/private_files.ts";
import { connect } from "../connect.ts";
import { contextFrom, type GlobalOptions } from "../../lib/startup.ts";
import { printJson } from "../render/format.ts";

export interface Opener {
  command: string;
  args: string[];
}

/** How to open a URL here, or undefined when there is no browser to open it (a server, an SSH session). */
export function browserOpener(
  url: string,
  env: Record<string, string | undefined> = Deno.env.toObject(),
  os: typeof Deno.build.os = Deno.build.os,
): Opener | undefined {
  const browser = env.BROWSER?.split(":").map((s) => s.trim()).find(Boolean);
  if (browser) {
    const found = which(browser, env, os);
    if (found) return { command: found.command, args: [...found.prefix, url] };
  }
  if (os === "windows") return { command: env.ComSpec ?? "cmd.exe", args: ["/d", "/c", "start", "", url] };
  if (os === "darwin") return { command: "open", args: [url] };
  // Without a display xdg-open would fall back to a text browser inside this terminal: print the link only.
  if (!env.DISPLAY && !env.WAYLAND_DISPLAY) return undefined;
  const xdg = which("xdg-open", env, os);
  return xdg ? { command: xdg.command, args: [url] } : undefined;
}

async function open(o: Opener): Promise<boolean> {
  try {
    const child = new Deno.Command(o.command, {
      args: o.args,
      stdin: "null",
      stdout: "null",
      stderr: "null",
    }).spawn();
    const result = await Promise.race([
      child.status.then((s) => s.success),
      new Promise<boolean>((r) => setTimeout(() => r(true), 5000)),
    ]);
    child.unref();
    return result;
  } catch {
    return false;
  }
}

const SIGN_IN_PAGE = "ui-sign-in.html";

function htmlAttr(text: string): string {
  return text.replace(/&/g, "&amp;").replace(/"/g, "&quot;").replace(/</g, "&lt;").replace(/>/g, "&gt;");
}

/** Writes the forwarding page for `url` and returns its file: URL (what the browser opener is given). */
export async function writeSignInPage(home: string, url: string): Promise<string> {
  await ensurePrivateDir(home);
  const path = homePath(home, SIGN_IN_PAGE);
  const a = htmlAttr(url);
  const page = `<!doctype html>
<meta charset="utf-8">
<meta name="referrer" content="no-referrer">
<meta http-equiv="refresh" content="0;url=${a}">
<title>Stratavore sign-in</title>
<p><a href="${a}">Sign in to the Stratavore dashboard</a></p>
`;
  await Deno.writeTextFile(path, page, { mode: 0o600 });
  if (Deno.build.os !== "windows") await Deno.chmod(path, 0o600);
  return Deno.build.os === "windows"
    ? "file:///" + encodeURI(path.replace(/\\/g, "/"))
    : "file://" + encodeURI(path);
}

export function linkUrl(base: string, link: UiLink): string {
  return base.replace(/\/+$/, "") + link.path;
}

export async function uiCommand(opts: GlobalOptions & { open?: boolean }): Promise<number> {
  const ctx = contextFrom(opts);
  const client = await connect(ctx);
  const link = await client.request("POST", "/api/v1/ui/links", uiLink);
  const url = linkUrl(client.url, link);
  const minutes = Math.max(1, Math.round((Date.parse(link.expiresAt) - Date.now()) / 60_000));
  // The page is written only when there is a browser to open it.
  const canOpen = opts.open !== false && browserOpener("file:///") !== undefined;
  const opener = canOpen ? browserOpener(await writeSignInPage(ctx.loaded.config.home, url)) : undefined;
  const opened = opener ? await open(opener) : false;
  if (ctx.json) {
    printJson({ url, expiresAt: link.expiresAt, opened });
    return 0;
  }
  console.log(`Sign in to the dashboard with this link (it works once, for ${minutes} minutes):`);
  console.log(`  ${url}`);
  if (opened) console.error("opened in your browser");
  else if (opener) console.error("could not open a browser: open the link yourself");
  else if (opts.open !== false) {
    console.error(
      `no browser to open here: open the link in a browser on this machine (or through a tunnel to ${client.url})`,
    );
  }
  console.error(`or open ${client.url}/ and paste the admin token from $STRATAVORE_HOME/api-token`);
  return 0;
}
