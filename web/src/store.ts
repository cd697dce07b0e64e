/**
 * What the pages share: runners, projects and budgets, kept current by the event stream (runner events
 * carry the whole runner) and refreshed by polling only for what is not an event (CPU, memory, heartbeats,
 * token counts, budget use).
 */
import type { LimitsResponse } from "../../lib/schemas/limits.ts";
import { useEffect, useReducer } from "preact/hooks";
import type { Budget } from "../../lib/schemas/budget.ts";
import type { EventEnvelope } from "../../lib/schemas/event.ts";
import type { Project } from "../../lib/schemas/project.ts";
import type { Runner } from "../../lib/schemas/runner.ts";
import { isActive as isActiveState } from "../../lib/runner_states.ts";
import { api } from "./api.ts";
import { openEventStream, type StreamState } from "./stream.ts";

export const isActive = (r: Runner) => isActiveState(r.state);

/**
 * Fields a heartbeat (or another report of the agent, such as its worktree's status) changes; the poll
 * updates only these on runners the stream already knows.
 */
const TELEMETRY = [
  "pid",
  "cpuPercent",
  "rssBytes",
  "lastHeartbeatAt",
  "heartbeatCount",
  "tokens",
  "sessionId",
  "cwd",
  "worktree",
] as const;

type Listener = () => void;
type EventListener = (e: EventEnvelope) => void;

export class Fleet {
  runners = new Map<number, Runner>();
  projects: Project[] = [];
  budgets: Budget[] = [];
  /** Subscription windows per account (null until loaded, or when the daemon has none). */
  limits: LimitsResponse | null = null;
  stream: StreamState = "connecting";
  loaded = false;
  error: string | null = null;
  /** When the last poll answered (the page shows how fresh the figures are). */
  refreshedAt = 0;
  #listeners = new Set<Listener>();
  #eventListeners = new Set<EventListener>();
  #pending: EventEnvelope[] | null = null;
  #closeStream: (() => void) | null = null;
  #timers: ReturnType<typeof setInterval>[] = [];
  #notifyQueued = false;

  subscribe(l: Listener): () => void {
    this.#listeners.add(l);
    return () => this.#listeners.delete(l);
  }
  onEvent(l: EventListener): () => void {
    this.#eventListeners.add(l);
    return () => this.#eventListeners.delete(l);
  }
  notify(): void {
    if (this.#notifyQueued) return;
    this.#notifyQueued = true;
    queueMicrotask(() => {
      this.#notifyQueued = false;
      for (const l of this.#listeners) l();
    });
  }

  /** Starts the stream first, then loads the lists; events arriving meanwhile are applied after them. */
  start(): void {
    if (this.#closeStream) return;
    this.#pending = [];
    this.#closeStream = openEventStream({
      onState: (s) => {
        const was = this.stream;
        this.stream = s;
        if (s === "live" && was === "connecting") void this.load();
        if (s === "live" && was === "reconnecting") void this.refresh();
        this.notify();
      },
      onEvent: (e) => {
        if (this.#pending) this.#pending.push(e);
        else this.apply(e);
      },
    });
    this.#timers.push(setInterval(() => void this.refreshRunners(), 3000));
    this.#timers.push(setInterval(() => void this.refreshProjects(), 10_000));
  }

  stop(): void {
    this.#closeStream?.();
    this.#closeStream = null;
    for (const t of this.#timers) clearInterval(t);
    this.#timers = [];
    this.runners.clear();
    this.projects = [];
    this.budgets = [];
    this.limits = null;
    this.loaded = false;
    this.stream = "connecting";
  }

  async load(): Promise<void> {
    try {
      const [active, recent, projects, budgets, limits] = await Promise.all([
        api.runners(),
        api.runners({ all: true, limit: 50 }),
        api.projects(),
        api.budgets(),
        api.limits().catch(() => null),
      ]);
      for (const r of [...recent, ...active]) this.runners.set(r.id, r);
      this.projects = projects;
      this.budgets = budgets;
      this.limits = limits;
      this.loaded = true;
      this.error = null;
      this.refreshedAt = Date.now();
    } catch (e) {
      this.error = (e as Error).message;
    }
    const pending = this.#pending ?? [];
    this.#pending = null;
    for (const e of pending) this.apply(e);
    this.notify();
  }

  async refresh(): Promise<void> {
    await Promise.all([this.refreshRunners(), this.refreshProjects()]);
  }

  /** Heartbeat figures of active runners; new runners the stream has not shown yet are added. */
  async refreshRunners(): Promise<void> {
    if (!this.loaded) return;
    try {
      const polled = await api.runners();
      for (const p of polled) {
        const known = this.runners.get(p.id);
        if (!known) {
          this.runners.set(p.id, p);
          continue;
        }
        const merged = { ...known } as Record<string, unknown>;
        for (const k of TELEMETRY) merged[k] = p[k];
        this.runners.set(p.id, merged as Runner);
      }
      this.refreshedAt = Date.now();
      this.error = null;
      this.notify();
    } catch (e) {
      this.error = (e as Error).message;
      this.notify();
    }
  }

  async refreshProjects(): Promise<void> {
    if (!this.loaded) return;
    try {
      const [projects, budgets, limits] = await Promise.all([
        api.projects(),
        api.budgets(),
        api.limits().catch(() => this.limits),
      ]);
      this.projects = projects;
      this.budgets = budgets;
      this.limits = limits;
      this.notify();
    } catch { /* the runner poll reports errors */ }
  }

  upsert(r: Runner): void {
    this.runners.set(r.id, r);
    this.notify();
  }

  apply(e: EventEnvelope): void {
    const runner = e.payload.runner as Runner | undefined;
    if (e.type.startsWith("runner.") && runner && typeof runner.id === "number") {
      this.runners.set(runner.id, runner);
    }
    if (e.type.startsWith("project.") || e.type.startsWith("budget.") || e.type.startsWith("limits.")) {
      void this.refreshProjects();
    }
    for (const l of this.#eventListeners) l(e);
    this.notify();
  }

  activeIn(project: string): number {
    let n = 0;
    for (const r of this.runners.values()) if (r.project === project && isActive(r)) n++;
    return n;
  }
}

export const fleet = new Fleet();

/** Re-renders the component whenever the fleet changes. */
export function useFleet(): Fleet {
  const [, bump] = useReducer((n: number) => n + 1, 0);
  useEffect(() => fleet.subscribe(() => bump(0)), []);
  return fleet;
}

/** The current time, ticking every `ms` (ages and uptimes). */
export function useNow(ms = 1000): number {
  const [now, set] = useReducer((_: number, v: number) => v, Date.now());
  useEffect(() => {
    const t = setInterval(() => set(Date.now()), ms);
    return () => clearInterval(t);
  }, [ms]);
  return now;
}
