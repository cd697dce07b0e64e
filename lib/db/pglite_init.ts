/**
 * Worker for a PGlite data folder's first start (lib/db/pglite.ts): runs initdb here so the memory it takes
 * (a second PGlite instance and the folder's image, ~450 MB) goes back to the system when the worker ends,
 * instead of staying in the daemon's heap.
 */
import { PGlite } from "@electric-sql/pglite";
import { pgliteStartParams } from "./pglite_settings.ts";

declare const self: {
  onmessage: ((e: MessageEvent<{ dataDir: string }>) => void) | null;
  postMessage(msg: { ok: true } | { ok: false; error: string }): void;
};

self.onmessage = async (e) => {
  try {
    const pg = await PGlite.create(e.data.dataDir, { startParams: pgliteStartParams() });
    await pg.close();
    self.postMessage({ ok: true });
  } catch (err) {
    self.postMessage({ ok: false, error: err instanceof Error ? err.message : String(err) });
  }
};
