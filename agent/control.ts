/**
 * Acting on what the daemon says about the runner (verdict.ts), once: a kill ends the command's tree
 * (even during a graceful stop), a stop asks the command to stop and ends the tree after the grace
 * period, a detach leaves the session running unreported. What arrives before the command exists waits.
 */
import type { Logger } from "../lib/log.ts";
import type { RunningCommand } from "./child.ts";
import type { Action } from "./verdict.ts";

export interface ControlHooks {
  /** The runner has ended in the daemon's eyes: stop reporting. */
  onEnded(): void;
  /** The daemon no longer tracks the runner: the link may close. */
  onDetach(): void;
}

export class SessionControl {
  #child?: RunningCommand;
  #early?: { action: Action; via: string };
  #done?: Action["do"];
  #ended = false;

  constructor(private graceMs: number, private log: Logger, private hooks: ControlHooks) {}

  /** What has been done so far: undefined, "stop", "kill" or "detach". */
  get done(): Action["do"] | undefined {
    return this.#done;
  }

  /** The daemon said the runner has ended (reports are refused). */
  get ended(): boolean {
    return this.#ended;
  }

  attach(child: RunningCommand): void {
    this.#child = child;
    const early = this.#early;
    this.#early = undefined;
    if (early) this.act(early.action, early.via);
  }

  act(action: Action, via: string): void {
    if (action.do === "continue") return;
    if (action.ended) {
      this.#ended = true;
      this.hooks.onEnded();
    }
    const child = this.#child;
    if (!child) {
      if (action.do === "kill" || !this.#early) this.#early = { action, via };
      return;
    }
    if (action.do === "kill") {
      if (this.#done === "kill") return;
      this.#done = "kill";
      this.log.warn(`${action.why}: ending the command's process tree`, { via });
      void child.killTree(true);
    } else if (this.#done === undefined && action.do === "stop") {
      this.#done = "stop";
      this.log.info(`${action.why}: asking the command to stop`, { via, graceMs: this.graceMs });
      void child.stop(this.graceMs);
    } else if (this.#done === undefined && action.do === "detach") {
      this.#done = "detach";
      this.log.warn(`${action.why}; the session keeps running, no longer reported`, { via });
      this.hooks.onDetach();
    }
  }
}
