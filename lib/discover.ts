/** Where the CLI and agent find the daemon: flags/env, else $STRATAVORE_HOME/daemon.json and api-token. */
import { StratavoreClient } from "./client.ts";
import type { Config } from "./config.ts";
import { AppError } from "./errors.ts";
import { readApiToken } from "./home.ts";
import { readDaemonInfo } from "./daemon_info.ts";
import { listenUrl, parseListen } from "./listen.ts";

export function daemonUrl(config: Pick<Config, "url" | "home" | "listen">): string {
  if (config.url) return config.url;
  const info = readDaemonInfo(config.home);
  if (info) return info.url;
  return listenUrl(parseListen(config.listen)!);
}

export function clientFor(
  config: Pick<Config, "url" | "home" | "listen" | "token">,
  agent?: string,
): StratavoreClient {
  const url = daemonUrl(config);
  const token = config.token ?? readApiToken(config.home);
  if (!token) {
    throw new AppError(
      "daemon_unreachable",
      `no API token for ${url}: start the daemon once (it writes ${config.home}/api-token), or set STRATAVORE_TOKEN`,
    );
  }
  return new StratavoreClient({ url, token, agent });
}
