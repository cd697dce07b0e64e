/**
 * WebSocket clients. Deno's built-in client does not set TCP_NODELAY, so on a terminal a keystroke behind a
 * stream of output waited for the delayed ACK: 40 ms per key at 1 MB/s of output (bench/attach.ts). The `ws`
 * package sets it (p99 round trip under 2 ms), but it brings Node's http, net and stream layers with it
 * (6 MB more when its modules load). So a socket that carries keystrokes (a terminal session's link,
 * `attach`) uses `ws`, loaded by loadTerminalClient() first; every other link (stop and kill only) uses
 * Deno's own.
 */
import type WebSocketClient from "./ws_types.d.ts";

/** The part of the WebSocket interface the terminal channel uses (both clients provide it). */
export interface SocketLike {
  readonly readyState: number;
  binaryType: string;
  onopen: ((ev: unknown) => void) | null;
  onmessage: ((ev: { data: string | ArrayBuffer }) => void) | null;
  onclose: ((ev: { code: number; reason: string }) => void) | null;
  onerror: ((ev: unknown) => void) | null;
  send(data: string | Uint8Array): void;
  close(code?: number, reason?: string): void;
}

export const OPEN = 1;

let terminalClient: typeof WebSocketClient | undefined;

/** Loads the `ws` client: sockets opened after it set TCP_NODELAY (keystrokes). */
export async function loadTerminalClient(): Promise<void> {
  // @ts-types="./ws_types.d.ts"
  terminalClient ??= (await import("ws")).default as typeof WebSocketClient;
}

export function connectSocket(url: string, headers: Record<string, string>): SocketLike {
  const socket =
    (terminalClient
      ? new terminalClient(url, { headers, perMessageDeflate: false })
      : new WebSocket(url, { headers })) as unknown as SocketLike;
  socket.binaryType = "arraybuffer";
  return socket;
}

/**
 * The HTTP status of a refused upgrade, from the error either client reports: `ws` says "Unexpected server
 * response: 401", Deno's own "failed to connect to WebSocket: Invalid status code: 401".
 */
export function refusedStatus(ev: unknown): number | undefined {
  const message = String((ev as { message?: unknown })?.message ?? "");
  const m = /(?:server response|status code): (\d{3})/.exec(message);
  return m ? Number(m[1]) : undefined;
}
