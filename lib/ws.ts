/**
 * WebSocket clients for the terminal channel. Deno's built-in WebSocket client does not set TCP_NODELAY,
 * so a keystroke behind a stream of output waited for the delayed ACK: 40 ms per key at 1 MB/s of output
 * (bench/attach.ts). The `ws` package sets it; with it the p99 round trip is under 2 ms.
 */
// @ts-types="./ws_types.d.ts"
import WS from "ws";

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

export function connectSocket(url: string, headers: Record<string, string>): SocketLike {
  const socket = new WS(url, { headers, perMessageDeflate: false }) as unknown as SocketLike;
  socket.binaryType = "arraybuffer";
  return socket;
}
