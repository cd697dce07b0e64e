/**
 * DNS rebinding: a page on attacker.example whose name is made to resolve to 127.0.0.1 can send requests
 * to the daemon from the user's own browser, with `Host: attacker.example`. Both ports (API and metrics)
 * answer only requests whose Host is an IP address (rebinding needs a name), `localhost` (or a name under
 * it), or a name the user configured (allowedHosts); anything else is 421 Misdirected Request. Browser
 * requests that carry an Origin (the sign-in exchange, WebSocket upgrades) must come from such a host too.
 */

const IPV4 = /^\d{1,3}(\.\d{1,3}){3}$/;

/** The hostname of a Host header value ("name:port", "[v6]:port", "name"), lower-cased. */
export function hostnameOf(host: string): string {
  const h = host.trim().toLowerCase();
  if (h.startsWith("[")) return h.slice(1, h.indexOf("]") === -1 ? undefined : h.indexOf("]"));
  return h.replace(/:\d*$/, "").replace(/\.$/, "");
}

export function hostAllowed(host: string | null | undefined, names: readonly string[]): boolean {
  // HTTP/1.0 clients may omit it; browsers always send it.
  if (host === null || host === undefined) return true;
  const name = hostnameOf(host);
  if (IPV4.test(name) || name.includes(":")) return true;
  if (name === "localhost" || name.endsWith(".localhost")) return true;
  return names.some((n) => n.toLowerCase() === name);
}

/** The 421 a request with a foreign Host gets, before any route (and any auth) sees it. */
export function misdirected(host: string): Response {
  return Response.json(
    {
      error: {
        code: "misdirected",
        message: `this daemon does not answer for host "${host.slice(0, 100)}": ` +
          "use its address or localhost, or add the name to STRATAVORE_ALLOWED_HOSTS",
      },
    },
    { status: 421 },
  );
}

/** Wraps a server handler with the Host check. */
export function guardHost<A extends unknown[]>(
  names: readonly string[],
  handler: (req: Request, ...rest: A) => Response | Promise<Response>,
): (req: Request, ...rest: A) => Response | Promise<Response> {
  return (req, ...rest) => {
    const host = req.headers.get("host");
    return hostAllowed(host, names) ? handler(req, ...rest) : misdirected(host ?? "");
  };
}

/**
 * Whether a browser request comes from a page of this daemon: no Origin (not a browser, or a same-origin
 * GET), or an Origin whose host is the request's Host and an allowed one.
 */
export function originAllowed(req: Request, names: readonly string[]): boolean {
  const origin = req.headers.get("origin");
  if (!origin) return true;
  let url: URL;
  try {
    url = new URL(origin);
  } catch {
    return false;
  }
  const host = req.headers.get("host") ?? new URL(req.url).host;
  return url.host.toLowerCase() === host.toLowerCase() && hostAllowed(url.host, names);
}
