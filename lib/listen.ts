/** "host:port" listen addresses as the config holds them. */

export interface ListenAddress {
  hostname: string;
  port: number;
}

export function parseListen(text: string): ListenAddress | undefined {
  const m = /^(\[[0-9a-fA-F:]+\]|[A-Za-z0-9.-]+):(\d{1,5})$/.exec(text.trim());
  if (!m) return undefined;
  const port = Number(m[2]);
  if (port > 65535) return undefined;
  return { hostname: m[1].replace(/^\[|\]$/g, ""), port };
}

export function isLoopback(hostname: string): boolean {
  return hostname === "localhost" || hostname === "::1" || /^127\./.test(hostname);
}

/** The URL a client uses to reach a listen address (0.0.0.0 and :: become loopback). */
export function listenUrl(addr: ListenAddress): string {
  const host = addr.hostname === "0.0.0.0" ? "127.0.0.1" : addr.hostname === "::" ? "[::1]" : addr.hostname;
  return `http://${host.includes(":") && !host.startsWith("[") ? `[${host}]` : host}:${addr.port}`;
}
