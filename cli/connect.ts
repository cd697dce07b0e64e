/**
 * The API client for a CLI command. When no token is found, the daemon is asked whether it runs at all
 * first, so a machine where it never started hears "start it with stratavore daemon", not "no token".
 */
import { StratavoreClient } from "../lib/client.ts";
import { clientFor, daemonUrl } from "../lib/discover.ts";
import { isAppError } from "../lib/errors.ts";
import type { Context } from "../lib/startup.ts";

export async function connect(ctx: Context): Promise<StratavoreClient> {
  const config = ctx.loaded.config;
  try {
    return clientFor(config);
  } catch (e) {
    if (isAppError(e) && e.code === "daemon_unreachable") {
      // health() needs no token and throws the "daemon is not running" error when nothing answers.
      await new StratavoreClient({ url: daemonUrl(config) }).health();
    }
    throw e;
  }
}
