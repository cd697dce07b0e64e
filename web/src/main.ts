/**
 * The Stratavore web dashboard: sign-in (the admin token pasted once, or a one-time link from
 * `stratavore ui`), then the fleet, runner, launch, usage and events pages, kept live by the event stream.
 * The token lives in sessionStorage only: it leaves with the tab and never appears in a URL.
 */
import { render } from "preact";
import { useEffect, useState } from "preact/hooks";
import { html } from "htm/preact";
import { api, ApiError, auth } from "./api.ts";
import { ErrorBox } from "./components.ts";
import { EventsPage } from "./pages/events.ts";
import { FleetPage } from "./pages/fleet.ts";
import { LaunchPage } from "./pages/launch.ts";
import { RunnerPage } from "./pages/runner.ts";
import { UsagePage } from "./pages/usage.ts";
import { type Route, useRoute } from "./router.ts";
import { fleet, useFleet } from "./store.ts";

const STREAM_TEXT = {
  connecting: "connecting…",
  live: "live",
  reconnecting: "reconnecting…",
  closed: "offline",
} as const;

function SignIn({ notice }: { notice: string | null }) {
  const [token, setToken] = useState("");
  const [error, setError] = useState<ApiError | Error | null>(null);
  const [busy, setBusy] = useState(false);
  const submit = async (e: Event) => {
    e.preventDefault();
    const t = token.trim();
    if (!t) return;
    setBusy(true);
    setError(null);
    try {
      // Traded for a dashboard session: this tab never keeps the admin token itself.
      auth.set(await api.exchange({ token: t }));
      setToken("");
      history.replaceState(null, "", "/#/");
      signedIn();
    } catch (err) {
      setError(
        err instanceof ApiError && err.status === 401
          ? new Error("The daemon did not accept this token. Copy it again from $STRATAVORE_HOME/api-token.")
          : err as Error,
      );
    } finally {
      setBusy(false);
    }
  };
  return html`
    <main class="signin" id="main">
      <form class="card form" onSubmit=${submit} aria-labelledby="signin-title">
          <h1 id="signin-title"><span class="logo" aria-hidden="true"></span> Stratavore</h1>
          ${notice ? html`<p class="notice" role="status">${notice}</p>` : null}
          <div class="field">
            <label for="signin-token">Admin token</label>
            <input id="signin-token" name="token" type="password" autocomplete="off" spellcheck="false"
              required value=${token} onInput=${(e: Event) =>
                setToken((e.target as HTMLInputElement).value)} />
            <p class="muted small">The token in <code>$STRATAVORE_HOME/api-token</code>
              (<code>~/.stratavore/api-token</code>). It is kept in this tab only, until you close it or sign out.
              Or run <code>stratavore ui</code> for a one-time sign-in link.</p>
          </div>
          <${ErrorBox} error=${error} />
          <div class="actions"><button type="submit" class="primary" disabled=${busy}>Sign in</button></div>
        </form>
    </main>
  `;
}

function Page({ route }: { route: Route }) {
  switch (route.page) {
    case "fleet":
      return html`<${FleetPage} />`;
    case "runner":
      return html`<${RunnerPage} key=${route.id} id=${route.id} />`;
    case "launch":
      return html`<${LaunchPage} key=${route.project ?? ""} project=${route.project} />`;
    case "usage":
      return html`<${UsagePage} />`;
    case "events":
      return html`<${EventsPage} />`;
    default:
      return html`
        <section>
          <h1>Not found</h1>
          <p>No page at <code>#${route.hash}</code>.
                <a href="#/">Back to the fleet</a>.</p>
        </section>
      `;
  }
}

function Shell() {
  const route = useRoute();
  const f = useFleet();
  useEffect(() => {
    const titles = { fleet: "Fleet", runner: "Runner", launch: "Launch", usage: "Usage", events: "Events" };
    document.title = `${titles[route.page as keyof typeof titles] ?? "Not found"} · Stratavore`;
  }, [route.page]);
  const nav = [
    ["fleet", "#/", "Fleet"],
    ["launch", "#/launch", "Launch"],
    ["usage", "#/usage", "Usage"],
    ["events", "#/events", "Events"],
  ] as const;
  const current = route.page === "runner" ? "fleet" : route.page;
  return html`
    <a class="skip" href="#main" onClick=${(e: Event) => {
      e.preventDefault();
      document.getElementById("main")?.focus();
    }}>Skip to content</a>
    <header class="top">
      <a class="brand" href="#/"><span class="logo" aria-hidden="true"></span>Stratavore</a>
      <nav aria-label="Main">
        <ul>${nav.map(([page, href, text]) =>
          html`<li><a href=${href} aria-current=${current === page ? "page" : undefined}>${text}</a></li>`
        )}</ul>
      </nav>
      <span class=${`stream stream-${f.stream}`} role="status" aria-live="polite" data-stream=${f.stream}
        title="The live event stream">${STREAM_TEXT[f.stream]}</span>
      <button type="button" class="secondary small" onClick=${signOut}>Sign out</button>
    </header>
    <main id="main" tabindex="-1">
      <${Page} route=${route} />
    </main>
  `;
}

let setSignedIn: ((v: boolean) => void) | null = null;
function signedIn(): void {
  fleet.start();
  setSignedIn?.(true);
}

function App({ notice: initialNotice }: { notice: string | null }) {
  const [isIn, setIn] = useState(() => auth.token !== null);
  const [notice, setNotice] = useState(initialNotice);
  setSignedIn = setIn;
  useEffect(() => {
    if (isIn) fleet.start();
    return auth.onSignOut(() => {
      fleet.stop();
      setNotice("Signed out.");
      setIn(false);
    });
  }, []);
  return isIn ? html`<${Shell} />` : html`<${SignIn} notice=${notice} />`;
}

/** Ends a dashboard session on the daemon too (a pasted admin token is only forgotten here). */
function signOut(): void {
  const token = auth.token;
  if (token?.startsWith("svd_")) {
    void fetch("/api/v1/ui/session", { method: "DELETE", headers: { authorization: `Bearer ${token}` } })
      .catch(() => {});
  }
  auth.clear();
}

/** /ui/login#code=…: trades the one-time code for the token, then forgets the code (history too). */
async function exchangeLink(): Promise<string | null> {
  if (location.pathname !== "/ui/login") return null;
  const code = new URLSearchParams(location.hash.replace(/^#/, "")).get("code");
  history.replaceState(null, "", "/");
  if (!code) return "This sign-in link has no code. Run stratavore ui for a new one.";
  try {
    auth.set(await api.exchange({ code }));
    location.hash = "#/";
    return null;
  } catch (e) {
    return e instanceof ApiError && e.status === 401
      ? "This sign-in link has expired or was already used. Run stratavore ui for a new one, or paste the admin token."
      : `Could not sign in with the link: ${(e as Error).message}`;
  }
}

const root = document.getElementById("app")!;
exchangeLink().then((notice) => {
  root.textContent = "";
  render(html`<${App} notice=${notice} />`, root);
});
