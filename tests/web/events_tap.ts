/** The test's own subscriber on the daemon's event stream: when did each event reach a client? */
export interface EventTap {
  /** Resolves with the moment (Date.now()) the first event matching arrived (also if it already had). */
  seen(type: string, entityId: string | number, timeoutMs?: number): Promise<number>;
  close(): void;
}

export async function tapEvents(url: string, token: string): Promise<EventTap> {
  const stop = new AbortController();
  const arrived = new Map<string, number>();
  const waiters = new Map<string, ((at: number) => void)[]>();
  const res = await fetch(`${url}/api/v1/events`, {
    headers: { authorization: `Bearer ${token}` },
    signal: stop.signal,
  });
  if (!res.ok || !res.body) throw new Error(`event stream answered ${res.status}`);
  (async () => {
    let buf = "";
    try {
      for await (const chunk of res.body!.pipeThrough(new TextDecoderStream())) {
        buf += chunk;
        let i;
        while ((i = buf.indexOf("\n\n")) >= 0) {
          const frame = buf.slice(0, i);
          buf = buf.slice(i + 2);
          const data = frame.split("\n").find((l) => l.startsWith("data: "));
          if (!data) continue;
          const e = JSON.parse(data.slice(6)) as { type: string; entityId: string };
          const key = `${e.type} ${e.entityId}`;
          const at = Date.now();
          if (!arrived.has(key)) arrived.set(key, at);
          for (const w of waiters.get(key) ?? []) w(at);
          waiters.delete(key);
        }
      }
    } catch { /* closed */ }
  })();
  return {
    seen(type, entityId, timeoutMs = 10_000) {
      const key = `${type} ${entityId}`;
      const at = arrived.get(key);
      if (at !== undefined) return Promise.resolve(at);
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`no ${key} event in ${timeoutMs} ms`)), timeoutMs);
        const list = waiters.get(key) ?? [];
        list.push((t) => {
          clearTimeout(timer);
          resolve(t);
        });
        waiters.set(key, list);
      });
    },
    close: () => stop.abort(),
  };
}
