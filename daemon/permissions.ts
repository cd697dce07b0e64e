/**
 * The waiting side of remote approvals: a PermissionRequest hook held open by this daemon until the request
 * is answered (on any daemon sharing the database: answers are announced with NOTIFY), answered in the
 * terminal, or its wait ends. Claude Code shows its dialog meanwhile, so the person at the terminal is
 * never blocked: whichever answers first wins.
 */
import type { Db } from "../lib/db/types.ts";
import type { Logger } from "../lib/log.ts";
import type { PermissionRequest } from "../lib/schemas/runner.ts";
import { permissionSettledInTerminal } from "./store/activity.ts";
import {
  expirePermission,
  getPermissionRequest,
  PERMISSION_CHANNEL,
  settleInTerminal,
} from "./store/permissions.ts";

export class PermissionWaiters {
  #db: Db;
  #log: Logger;
  #waiting = new Map<number, (r: PermissionRequest | undefined) => void>();
  #unlisten?: () => Promise<void>;

  constructor(db: Db, log: Logger) {
    this.#db = db;
    this.#log = log;
  }

  async start(): Promise<void> {
    this.#unlisten = await this.#db.listen(
      PERMISSION_CHANNEL,
      (payload) => void this.#settle(Number(payload)),
      // After a reconnect, look again at everything still waiting: an answer may have come meanwhile.
      () => {
        for (const id of this.#waiting.keys()) void this.#settle(id);
      },
    );
  }

  async #settle(id: number): Promise<void> {
    const resolve = this.#waiting.get(id);
    if (!resolve) return;
    try {
      const r = await getPermissionRequest(this.#db, id);
      if (r && r.status !== "pending") {
        this.#waiting.delete(id);
        resolve(r);
      }
    } catch (e) {
      this.#log.warn("cannot read a permission request", { id, error: (e as Error).message });
    }
  }

  /**
   * Waits for request `id` (of `runnerId`) to be answered: resolves with it once it is, or with undefined when
   * the wait ends first (the request is marked expired) or Claude Code stops waiting for the hook (it closes
   * the request when the dialog is answered in the terminal: the request is marked so).
   */
  async wait(
    id: number,
    runnerId: number,
    timeoutMs: number,
    signal?: AbortSignal,
  ): Promise<PermissionRequest | undefined> {
    const answered = new Promise<PermissionRequest | undefined>((resolve) => this.#waiting.set(id, resolve));
    let timer: ReturnType<typeof setTimeout> | undefined;
    const ended = new Promise<"timeout" | "closed">((resolve) => {
      timer = setTimeout(() => resolve("timeout"), timeoutMs);
      signal?.addEventListener("abort", () => resolve("closed"), { once: true });
    });
    await this.#settle(id); // answered before we started listening for it
    const r = await Promise.race([answered, ended]);
    clearTimeout(timer);
    this.#waiting.delete(id);
    if (r && typeof r === "object") return r;
    try {
      await this.#db.transaction(async (tx) => {
        if (r === "closed") {
          if ((await settleInTerminal(tx, runnerId, id)).length) {
            await permissionSettledInTerminal(tx, runnerId);
          }
        } else await expirePermission(tx, id);
      });
    } catch (e) {
      this.#log.warn("cannot settle a permission request", { id, error: (e as Error).message });
    }
    // An answer that raced the end of the wait still counts.
    const last = await getPermissionRequest(this.#db, id).catch(() => undefined);
    return last && (last.status === "allowed" || last.status === "denied") ? last : undefined;
  }

  /** Ends every wait (shutdown): the hooks get no decision and the dialogs stay the terminal's. */
  async stop(): Promise<void> {
    for (const resolve of this.#waiting.values()) resolve(undefined);
    this.#waiting.clear();
    await this.#unlisten?.().catch(() => {});
  }
}
