/**
 * Every route the daemon serves, in one list: the API under /api/v1, health and the dashboard at the root.
 * Each route file declares its routes with their auth and kind (http/route.ts); daemon/app.ts mounts this
 * list behind the middleware that reads those declarations, and tests/daemon/api_doc_test.ts holds
 * docs/api.md's endpoint table to it.
 */
import { type Route, under } from "../http/route.ts";
import type { AgentLinks } from "../link/links.ts";
import { metricsRoutes } from "../metrics/mod.ts";
import type { Observability } from "../observability.ts";
import { notifyRoutes } from "../notify/routes.ts";
import type { EventTail } from "../outbox/tail.ts";
import type { PermissionWaiters } from "../permissions.ts";
import type { PtyHub } from "../pty/hub.ts";
import type { Services } from "../services.ts";
import type { TranscriptStore } from "../transcripts.ts";
import { type AgentRouteHooks, agentRoutes } from "./agent.ts";
import { budgetRoutes } from "./budgets.ts";
import { claudeHookRoutes, observedRoutes } from "./claude_hooks.ts";
import { ArrivalOrder } from "../hook_order.ts";
import { eventRoutes } from "./events.ts";
import { healthRoutes, statusRoutes } from "./health.ts";
import { limitRoutes, observedLimitRoutes, runnerLimitRoutes } from "./limits.ts";
import { linkRoutes } from "./link.ts";
import { logRoutes } from "./logs.ts";
import { otlpRoutes } from "./otlp.ts";
import { projectRoutes } from "./projects.ts";
import { ptyRoutes } from "./pty.ts";
import { type RunnerRouteHooks, runnerRoutes } from "./runners.ts";
import { sessionRoutes, transcriptUploadRoute } from "./sessions.ts";
import { uiLinkRoutes, type UiLinks, uiRootRoutes } from "./ui.ts";
import { usageRoutes } from "./usage.ts";
import { worktreeRoutes } from "./worktrees.ts";

/** What the routes use besides the services: built by daemon/main.ts. */
export interface RouteDeps {
  services: Services;
  /** Aborted when the daemon shuts down: ends the long-lived streams. */
  shutdown: AbortSignal;
  runners: RunnerRouteHooks;
  /** Also the OTLP receiver's: budgets count usage in the transaction that booked it. */
  agent: AgentRouteHooks;
  observability: Observability;
  events: EventTail;
  transcripts: TranscriptStore;
  links: AgentLinks;
  ptyHub: PtyHub;
  waiters: PermissionWaiters;
  uiLinks: UiLinks;
}

export const API_PREFIX = "/api/v1";

/** The whole HTTP surface. Building it only creates the handlers: none of the deps is used until a request. */
export function routeTable(d: RouteDeps): Route[] {
  const s = d.services;
  const hooks = { waiters: d.waiters, order: new ArrivalOrder() };
  return [
    ...healthRoutes(s),
    ...under(API_PREFIX, [
      ...statusRoutes(s),
      ...projectRoutes(s),
      ...agentRoutes(s, d.agent),
      ...runnerRoutes(s, d.runners),
      ...worktreeRoutes(s),
      ...metricsRoutes(d.observability.metrics),
      ...notifyRoutes(s, d.observability.notifier.telegram),
      ...logRoutes(s, d.shutdown),
      ...transcriptUploadRoute(s, d.transcripts),
      ...linkRoutes(s, d.links),
      ...ptyRoutes(s, d.ptyHub),
      ...claudeHookRoutes(s, hooks),
      ...observedRoutes(s, hooks),
      ...runnerLimitRoutes(s),
      ...observedLimitRoutes(s),
      ...limitRoutes(s),
      ...eventRoutes({ db: s.db, tail: d.events, shutdown: d.shutdown }),
      ...budgetRoutes(s),
      ...sessionRoutes(s, d.transcripts),
      ...usageRoutes(s),
      ...otlpRoutes(s, { afterUsage: d.agent.afterUsage, onExport: d.observability.onTelemetry }),
      ...uiLinkRoutes(d.uiLinks, s.dashboards),
    ]),
    ...uiRootRoutes(s, d.uiLinks),
  ];
}
