/** A periodic task with jitter that never overlaps itself and stops promptly. */
import type { Logger } from "../lib/log.ts";

export interface Loop {
  stop(): Promise<void>;
  /** Runs the task now (tests and NOTIFY wake-ups), unless it is already running. */
  kick(): void;
}

export function startLoop(
  name: string,
  everyMs: number,
  task: () => Promise<void>,
  log: Logger,
  opts: { jitter?: number; initialDelayMs?: number } = {},
): Loop {
  let timer: ReturnType<typeof setTimeout> | undefined;
  let running: Promise<void> | undefined;
  let stopped = false;
  let again = false;
  const jitter = opts.jitter ?? 0.1;

  const run = async () => {
    timer = undefined;
    if (stopped) return;
    if (running) {
      again = true;
      return;
    }
    running = task().catch((e) => log.error(`${name} failed`, { error: e as Error }));
    await running;
    running = undefined;
    if (stopped) return;
    if (again) {
      again = false;
      schedule(0);
    } else schedule(everyMs * (1 + (Math.random() * 2 - 1) * jitter));
  };
  const schedule = (ms: number) => {
    if (timer !== undefined) clearTimeout(timer);
    timer = setTimeout(run, ms);
  };
  schedule(opts.initialDelayMs ?? everyMs);

  return {
    kick() {
      if (!stopped) schedule(0);
    },
    async stop() {
      stopped = true;
      if (timer !== undefined) clearTimeout(timer);
      await running;
    },
  };
}
