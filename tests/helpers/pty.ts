/** A viewer of a detached runner's terminal through the real daemon (the attach WebSocket), for tests. */
import { eventually } from "./assert.ts";
import type { StratavoreClient } from "../../lib/client.ts";
import { loadTerminalClient } from "../../lib/ws.ts";
import { type ToViewerMessage, toViewerMessage } from "../../lib/schemas/pty.ts";

export interface TestViewer {
  screen(): string;
  control: ToViewerMessage[];
  type(text: string): void;
  resize(cols: number, rows: number): void;
  waitFor(re: RegExp, timeoutMs?: number): Promise<void>;
  close(): Promise<void>;
  closed: Promise<{ code: number; reason: string }>;
}

export async function attachViewer(
  client: StratavoreClient,
  id: number,
  mode: "rw" | "ro",
  name: string,
): Promise<TestViewer> {
  await loadTerminalClient(); // as `attach` does: TCP_NODELAY
  const ws = client.webSocket(`/api/v1/runners/${id}/attach`, { mode, name });
  ws.binaryType = "arraybuffer";
  let out = "";
  const dec = new TextDecoder();
  const control: ToViewerMessage[] = [];
  ws.onmessage = (e) => {
    if (typeof e.data === "string") control.push(toViewerMessage.parse(JSON.parse(e.data)));
    else out += dec.decode(new Uint8Array(e.data as ArrayBuffer), { stream: true });
  };
  const closed = new Promise<{ code: number; reason: string }>((r) => (ws.onclose = r));
  await new Promise<void>((resolve, reject) => {
    ws.onopen = () => resolve();
    ws.onerror = () => reject(new Error("attach failed"));
  });
  return {
    screen: () => out,
    control,
    type: (text) => ws.send(new TextEncoder().encode(text)),
    resize: (cols, rows) => ws.send(JSON.stringify({ t: "resize", cols, rows })),
    waitFor: (re, timeoutMs = 20_000) =>
      eventually(() => re.test(out), timeoutMs, `${re} on the screen`).then(() => {}),
    async close() {
      ws.close();
      await closed;
    },
    closed,
  };
}
