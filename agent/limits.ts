/**
 * Passing a session's subscription windows on to the daemon: one report in flight at a time, the latest
 * figures win (a report is a snapshot, so the ones in between need not be sent), never blocking the session.
 */
import type { RunnerClient } from "../lib/runner_client.ts";
import type { Logger } from "../lib/log.ts";
import type { AccountRef, LimitsReport } from "../lib/schemas/limits.ts";

export class LimitReporter {
  #pending?: LimitsReport;
  #sending?: Promise<void>;

  constructor(
    private client: RunnerClient,
    private runnerId: number,
    private account: AccountRef,
    private log: Logger,
    private autoContinue?: boolean,
  ) {}

  push(source: LimitsReport["source"], figures: Omit<LimitsReport, "source" | "account">): void {
    this.#pending = {
      source,
      account: this.account,
      ...figures,
      ...(this.autoContinue !== undefined ? { autoContinue: this.autoContinue } : {}),
    };
    this.#sending ??= this.#drain();
  }

  async #drain(): Promise<void> {
    while (this.#pending) {
      const report = this.#pending;
      this.#pending = undefined;
      try {
        await this.client.reportLimits(this.runnerId, report);
      } catch (e) {
        this.log.debug("could not report the subscription windows", { error: (e as Error).message });
      }
    }
    this.#sending = undefined;
  }

  /** Resolves once what was pushed has been sent (or failed). */
  async flush(): Promise<void> {
    while (this.#sending) await this.#sending;
  }
}
