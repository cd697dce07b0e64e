/** The signals that mean "please stop" on this OS (Windows can only listen to SIGINT and SIGBREAK). */

export function stopSignals(): Deno.Signal[] {
  return Deno.build.os === "windows" ? ["SIGINT", "SIGBREAK"] : ["SIGINT", "SIGTERM", "SIGHUP"];
}

/** Calls handler with the signal's name each time one arrives; returns a function that stops listening. */
export function onStopSignal(handler: (signal: Deno.Signal) => void, signals = stopSignals()): () => void {
  const installed: [Deno.Signal, () => void][] = [];
  for (const sig of signals) {
    const fn = () => handler(sig);
    try {
      Deno.addSignalListener(sig, fn);
      installed.push([sig, fn]);
    } catch {
      // Not every signal can be listened to everywhere; the others still work.
    }
  }
  return () => {
    for (const [sig, fn] of installed) {
      try {
        Deno.removeSignalListener(sig, fn);
      } catch { /* already gone */ }
    }
  };
}
