/** What the daemon's routes and loops share: built once in daemon/main.ts. */
import type { DashboardSessions } from "./http/dashboard_sessions.ts";
import type { Config } from "../lib/config.ts";
import type { Db } from "../lib/db/types.ts";
import type { Logger } from "../lib/log.ts";
import type { HeartbeatBatcher } from "./heartbeats.ts";
import type { AgentTokenCache } from "./store/tokens.ts";

export interface Services {
  db: Db;
  config: Config;
  log: Logger;
  daemonId: string;
  /** The database's installation id (migrations/011), sent with every API answer (lib/runner_client.ts). */
  installation: string;
  startedAt: Date;
  /** The API's own URL, known once it listens. */
  url: string;
  host: string;
  adminToken: string;
  tokens: AgentTokenCache;
  /** The web dashboard's sessions (daemon/http/dashboard_sessions.ts); absent in tests without the UI. */
  dashboards?: DashboardSessions;
  heartbeats: HeartbeatBatcher;
  broker: { kind: "embedded" | "rabbitmq"; location: string };
  /**
   * The environment the daemon runs in (its process's, or a test's for an in-process daemon): sessions
   * inherit its allowlisted part and new launches' account is read from it.
   */
  env: Record<string, string>;
}
