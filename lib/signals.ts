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

/**
 * The signal to pass on to a child for a stop signal this process caught, or undefined to pass nothing: in a
 * terminal, Ctrl-C already reached the whole foreground process group, the child included (passing it on
 * would deliver it twice, and make Claude Code exit instead of interrupting); SIGBREAK (Windows) becomes
 * SIGTERM, which a child can be sent.
 */
export function signalToPass(sig: Deno.Signal, inTerminal: boolean): Deno.Signal | undefined {
  if (sig === "SIGINT" && inTerminal) return undefined;
  return sig === "SIGBREAK" ? "SIGTERM" : sig;
}
