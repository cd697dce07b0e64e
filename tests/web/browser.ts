/**
 * Headless Chromium (Debian's /usr/bin/chromium) driven by playwright-core, for the web dashboard tests:
 * a fresh profile per browser, every request the pages make recorded (so a test can prove that nothing
 * leaves the daemon's origin), page errors and CSP violations collected, screenshots saved on request.
 */
import { type BrowserContext, chromium, type Page } from "playwright-core";
import { REPO } from "../helpers/env.ts";
import { removeDir, tempDir } from "../helpers/fs.ts";

export const CHROMIUM = Deno.env.get("CHROMIUM_PATH") ?? "/usr/bin/chromium";

export const CHROMIUM_ARGS = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
  "--no-first-run",
];

export function chromiumAvailable(): boolean {
  try {
    return Deno.statSync(CHROMIUM).isFile;
  } catch {
    return false;
  }
}

export const LAPTOP = { width: 1280, height: 800 };
export const PHONE = { width: 390, height: 844 };

export interface TestBrowser {
  context: BrowserContext;
  /** Every URL any page asked for, in order. */
  requests: string[];
  /** Uncaught page errors and console errors about the Content Security Policy. */
  problems: string[];
  newPage(viewport?: { width: number; height: number }): Promise<Page>;
  /** Saves a screenshot as <name>.png: in $WEB_SCREENSHOTS when set (docs/screenshots), else a temp folder. */
  screenshot(page: Page, name: string, opts?: { fullPage?: boolean }): Promise<string>;
  /** The URLs that went anywhere but `origin` (data: URLs carry no request and are allowed). */
  foreignRequests(origin: string): string[];
  close(): Promise<void>;
}

export async function openBrowser(opts: { screenshots?: boolean } = {}): Promise<TestBrowser> {
  const profile = await tempDir("stratavore-chromium-");
  const shots = opts.screenshots && Deno.env.get("WEB_SCREENSHOTS")
    ? `${REPO}/${Deno.env.get("WEB_SCREENSHOTS")!.replace(/^\.\//, "")}`
    : `${profile}/screenshots`;
  await Deno.mkdir(shots, { recursive: true });
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    args: CHROMIUM_ARGS,
    viewport: LAPTOP,
    acceptDownloads: true,
    colorScheme: "light",
    reducedMotion: "reduce",
    timezoneId: "UTC",
    locale: "en-GB",
  });
  const requests: string[] = [];
  const problems: string[] = [];
  const watch = (page: Page) => {
    page.on("request", (r) => requests.push(r.url()));
    page.on("pageerror", (e) => problems.push(`page error: ${e.message}`));
    page.on("console", (m) => {
      if (m.type() === "error" && /Content Security Policy|Refused to/i.test(m.text())) {
        problems.push(`console: ${m.text()}`);
      }
    });
  };
  context.on("page", watch);
  for (const p of context.pages()) watch(p);
  return {
    context,
    requests,
    problems,
    async newPage(viewport = LAPTOP) {
      const page = await context.newPage();
      await page.setViewportSize(viewport);
      page.setDefaultTimeout(15_000);
      return page;
    },
    async screenshot(page, name, o = {}) {
      const path = `${shots}/${name}.png`;
      await page.screenshot({ path, fullPage: o.fullPage ?? false, animations: "disabled", caret: "hide" });
      return path;
    },
    foreignRequests(origin) {
      return requests.filter((u) => {
        if (u.startsWith("data:")) return false;
        if (u.startsWith("blob:")) return !u.startsWith(`blob:${origin}/`);
        return new URL(u).origin !== origin;
      });
    },
    async close() {
      await context.close().catch(() => {});
      await removeDir(profile);
    },
  };
}

/** A browser for the test body; closed (and its profile removed) whatever happens. */
export async function withBrowser<T>(
  fn: (b: TestBrowser) => Promise<T>,
  opts: { screenshots?: boolean } = {},
): Promise<T> {
  const b = await openBrowser(opts);
  try {
    return await fn(b);
  } finally {
    await b.close();
  }
}

/** Signs a fresh page in with the pasted admin token and waits for the live stream. */
export async function signIn(page: Page, url: string, token: string): Promise<void> {
  await page.goto(`${url}/`);
  await page.getByLabel("Admin token").fill(token);
  await page.getByRole("button", { name: "Sign in" }).click();
  await page.locator('[data-stream="live"]').waitFor();
}
