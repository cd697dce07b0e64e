/**
 * The web dashboard on the API port: the page and its assets at `/` and `/ui/*` (embedded in the program,
 * web/assets.ts), one-time sign-in links (`POST /api/v1/ui/links`, admin) and their exchange for a dashboard
 * session (`POST /ui/exchange`, where the code itself is the credential; http/dashboard_sessions.ts).
 *
 * A link is `/ui/login#code=<43 characters>`: 256 random bits, kept only as a SHA-256 in this daemon's
 * memory, valid for LINK_TTL_MS and for one exchange. The code sits in the URL fragment, which browsers
 * never send to a server or put in a Referer; the page posts it to /ui/exchange and removes it from the
 * address bar and the history. The admin token itself never appears in a URL.
 */
import type { Context } from "hono";
import { base64url } from "../../lib/home.ts";
import { AppError } from "../../lib/errors.ts";
import { uiExchangeRequest, type UiLink } from "../../lib/schemas/ui.ts";
import { WEB_ASSETS, type WebAsset } from "../../web/assets.ts";
import { readBody } from "../http/body.ts";
import type { AppEnv } from "../http/types.ts";
import { type Route, Routes } from "../http/route.ts";
import type { Services } from "../services.ts";
import { recordAudit } from "../store/audit.ts";
import { originAllowed } from "../http/host.ts";
import { bindingCookie, bindingFrom, type DashboardSessions } from "../http/dashboard_sessions.ts";
import { bearer } from "../http/auth.ts";
import { safeEqual } from "../store/tokens.ts";

export const LINK_TTL_MS = 5 * 60_000;
/** Outstanding links kept at most; creating more forgets the oldest. */
export const MAX_PENDING_LINKS = 32;

async function digest(code: string): Promise<string> {
  const hash = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(code));
  return base64url(new Uint8Array(hash));
}

/** Single-use sign-in codes, kept as hashes in memory (a restart forgets them: they live minutes). */
export class UiLinks {
  readonly #pending = new Map<string, number>();
  constructor(readonly ttlMs = LINK_TTL_MS, readonly now: () => number = Date.now) {}

  async create(): Promise<UiLink> {
    this.#sweep();
    while (this.#pending.size >= MAX_PENDING_LINKS) {
      this.#pending.delete(this.#pending.keys().next().value!);
    }
    const code = base64url(crypto.getRandomValues(new Uint8Array(32)));
    const expiresAt = this.now() + this.ttlMs;
    this.#pending.set(await digest(code), expiresAt);
    return { code, path: `/ui/login#code=${code}`, expiresAt: new Date(expiresAt).toISOString() };
  }

  /** True once for a valid code; the code is spent either way. */
  async redeem(code: string): Promise<boolean> {
    const key = await digest(code);
    const expiresAt = this.#pending.get(key);
    this.#pending.delete(key);
    this.#sweep();
    return expiresAt !== undefined && expiresAt > this.now();
  }

  get pending(): number {
    this.#sweep();
    return this.#pending.size;
  }

  #sweep(): void {
    const now = this.now();
    for (const [k, exp] of this.#pending) if (exp <= now) this.#pending.delete(k);
  }
}

/**
 * `POST /api/v1/ui/links` (admin): a new one-time sign-in link. `DELETE /api/v1/ui/session`: the calling
 * dashboard signs itself out. `DELETE /api/v1/ui/sessions` (admin): every dashboard is signed out.
 */
export function uiLinkRoutes(links: UiLinks, dashboards?: DashboardSessions): Route[] {
  const app = new Routes("/ui");
  app.post("/links", { auth: "admin-only" }, async (c) => c.json(await links.create(), 201));
  app.delete("/session", { auth: "admin" }, async (c) => {
    if (c.get("actor")?.kind !== "dashboard") {
      throw new AppError("bad_request", "only a dashboard session signs itself out here");
    }
    await dashboards?.revoke(bearer(c.req.header("authorization")) ?? "");
    return c.json({ signedOut: true }, 200, { "set-cookie": bindingCookie("", 0) });
  });
  app.delete("/sessions", { auth: "admin-only" }, async (c) => {
    return c.json({ signedOut: (await dashboards?.revokeAll()) ?? 0 });
  });
  return app.list;
}

/**
 * Everything loads from this origin: scripts, styles, fetches. Inline scripts and styles are refused;
 * style *properties* set from script (bar widths, chart sizes) are CSSOM and allowed. The one exception:
 * xterm.js (the runner's terminal) writes its own <style> elements for glyph sizes and colours, so
 * style-src allows inline styles; scripts stay strictly 'self', and the page never renders markup it
 * did not build itself.
 */
const CSP = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self' 'unsafe-inline'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "font-src 'self'",
  "manifest-src 'self'",
  "base-uri 'none'",
  "form-action 'self'",
  "frame-ancestors 'none'",
].join("; ");

const SECURITY_HEADERS: Record<string, string> = {
  "content-security-policy": CSP,
  "x-content-type-options": "nosniff",
  "x-frame-options": "DENY",
  "referrer-policy": "no-referrer",
  "cross-origin-opener-policy": "same-origin",
  "cross-origin-resource-policy": "same-origin",
};

const etags = new Map<WebAsset, Promise<string>>();
function etagOf(a: WebAsset): Promise<string> {
  let e = etags.get(a);
  if (!e) {
    e = digest(a.body).then((d) => `"${d.slice(0, 22)}"`);
    etags.set(a, e);
  }
  return e;
}

async function serve(c: Context<AppEnv>, asset: WebAsset): Promise<Response> {
  const etag = await etagOf(asset);
  const headers = { ...SECURITY_HEADERS, etag, "cache-control": "no-cache" };
  if (c.req.header("if-none-match") === etag) return new Response(null, { status: 304, headers });
  return new Response(asset.body, { headers: { ...headers, "content-type": asset.type } });
}

/** `/`, `/ui/login`, `/ui/app.js`, `/ui/app.css`, `/ui/favicon.svg` and `POST /ui/exchange`. */
export function uiRootRoutes(s: Services, links: UiLinks): Route[] {
  const app = new Routes();
  const page = (c: Context<AppEnv>) => serve(c, WEB_ASSETS["index.html"]);
  const open = { auth: "none" } as const;
  app.get("/", open, page);
  app.get("/ui", open, page);
  app.get("/ui/", open, page);
  app.get("/ui/login", open, page);
  app.get("/ui/app.js", open, (c) => serve(c, WEB_ASSETS["app.js"]));
  app.get("/ui/app.css", open, (c) => serve(c, WEB_ASSETS["app.css"]));
  app.get("/ui/favicon.svg", open, (c) => serve(c, WEB_ASSETS["favicon.svg"]));
  app.get("/favicon.ico", open, (c) => serve(c, WEB_ASSETS["favicon.svg"]));

  // The code in the body is the credential; the exchange writes its own audit row.
  app.post("/ui/exchange", { auth: "none", audit: "own" }, async (c) => {
    // The Origin must be this daemon's own page on an allowed host (the Host alone proves nothing).
    if (!originAllowed(c.req.raw, s.config.allowedHosts)) {
      throw new AppError("forbidden", "sign-in links can only be used from the dashboard's own page");
    }
    const body = await readBody(c, uiExchangeRequest);
    const remote = c.env?.remoteAddr;
    const remoteAddr = remote && "hostname" in remote ? remote.hostname : null;
    if ("token" in body) {
      // The admin token pasted into the page is traded too: the tab then never keeps the admin token.
      if (!safeEqual(body.token, s.adminToken)) {
        throw new AppError(
          "unauthorized",
          "the daemon did not accept this token: copy it again from $STRATAVORE_HOME/api-token",
        );
      }
    } else if (!await links.redeem(body.code)) {
      s.log.warn("a web sign-in link was refused (expired, already used or unknown)", { remoteAddr });
      throw new AppError(
        "unauthorized",
        'this sign-in link has expired or was already used: run "stratavore ui" for a new one',
      );
    }
    s.log.info(`web dashboard signed in with ${"token" in body ? "the admin token" : "a one-time link"}`, {
      remoteAddr,
    });
    try {
      await recordAudit(s.db, {
        actor: "ui-link",
        action: "POST /ui/exchange",
        target: "/ui/exchange",
        details: { status: 200 },
        remoteAddr,
      });
    } catch (e) {
      s.log.warn("could not write the audit log", { error: e as Error });
    }
    // A dashboard session bound to this browser by an HttpOnly cookie, never the admin token itself.
    if (!s.dashboards) throw new AppError("failed", "this daemon has no dashboard sessions");
    // A browser that signed in before keeps its binding: its other tabs stay signed in.
    const session = await s.dashboards.create(bindingFrom(c.req.header("cookie")));
    return c.json(
      { token: session.token, expiresAt: new Date(session.expiresAt).toISOString() },
      200,
      {
        "cache-control": "no-store",
        "set-cookie": bindingCookie(session.binding, Math.floor(s.dashboards.ttlMs / 1000)),
        ...SECURITY_HEADERS,
      },
    );
  });
  return app.list;
}
