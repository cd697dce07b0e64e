/**
 * `stratavore watch`: a full-screen live dashboard. State changes come from the daemon's event stream
 * (SSE) as they happen; CPU, memory and heartbeat figures (not events) are refreshed every few seconds;
 * ages tick locally. Keys: arrows/j/k select, Enter details, s stop, x kill (confirmed), a/d approve or
 * deny the selected runner's permission request, q quit.
 */
import { AppError } from "../../lib/errors.ts";
import type { EventEnvelope } from "../../lib/schemas/event.ts";
import type { Runner } from "../../lib/schemas/runner.ts";
import { followEvents } from "../../lib/sse.ts";
import { connect } from "../connect.ts";
import { contextFrom, type GlobalOptions } from "../../lib/startup.ts";
import { now } from "../render/format.ts";
import { orderedRunners, renderScreen, type WatchState } from "../render/watch_screen.ts";
import { type Key, openScreen } from "../tui/terminal.ts";

const REFRESH_MS = 5000;
const ENDED_KEEP_MS = 60_000;

export async function watchCommand(opts: GlobalOptions): Promise<void> {
  const ctx = contextFrom(opts);
  if (!Deno.stdin.isTerminal() || !Deno.stdout.isTerminal()) {
    throw new AppError(
      "usage",
      'watch needs a terminal; use "stratavore events -f" or "stratavore runners --json" in scripts',
    );
  }
  const client = await connect(ctx);
  const state: WatchState = {
    url: client.url,
    stream: "connecting",
    projects: [],
    runners: new Map(),
    budgets: [],
    events: [],
    view: "list",
    ttlMs: ctx.loaded.config.heartbeatTtl,
  };

  const refresh = async (what: { projects?: boolean; runners?: boolean; budgets?: boolean } = {}) => {
    const all = Object.keys(what).length === 0;
    const [projects, runners, budgets] = await Promise.all([
      all || what.projects ? client.listProjects() : undefined,
      all || what.runners ? client.listRunners() : undefined,
      all || what.budgets ? client.listBudgets() : undefined,
    ]);
    if (projects) state.projects = projects;
    if (budgets) state.budgets = budgets;
    if (runners) {
      // Active runners from the list; ended ones stay a minute so their end can be seen.
      const keep = [...state.runners.values()].filter((r) =>
        r.endedAt && now() - Date.parse(r.endedAt) < ENDED_KEEP_MS
      );
      state.runners = new Map([...keep, ...runners].map((r) => [r.id, r]));
    }
    if (state.selected === undefined || !state.runners.has(state.selected)) {
      state.selected = orderedRunners(state)[0]?.id;
    }
  };
  await refresh();

  const screen = openScreen();
  const stop = new AbortController();
  const draw = () => screen.draw(renderScreen(state, screen.size(), ctx.color, now()));
  screen.onResize(draw);

  const onEvent = (e: EventEnvelope) => {
    state.events = [...state.events.slice(-49), e];
    const runner = (e.payload as { runner?: Runner }).runner;
    if (e.type.startsWith("runner.permission_") || (e.type === "runner.activity" && runner)) {
      // The pending request is part of the runner as listed, not of the event: read it again.
      const id = runner?.id ?? Number(e.entityId);
      void client.getRunner(id).then((r) => {
        state.runners.set(r.id, r);
        draw();
      }, () => {});
    }
    if (e.type.startsWith("runner.") && runner) {
      state.runners.set(runner.id, runner);
      if (state.selected === undefined) state.selected = runner.id;
      void refresh({ projects: true }).then(draw, () => {});
    } else if (e.type.startsWith("project.")) void refresh({ projects: true }).then(draw, () => {});
    else if (e.type.startsWith("budget.")) void refresh({ budgets: true }).then(draw, () => {});
    draw();
  };
  const stream = followEvents(client, {
    signal: stop.signal,
    onEvent,
    onState: (s) => {
      state.stream = s;
      draw();
    },
  }).catch((e) => {
    state.stream = "reconnecting";
    state.message = `event stream: ${(e as Error).message}`;
  });

  const ticker = setInterval(draw, 1000);
  const poller = setInterval(
    () => void refresh({ runners: true, budgets: true }).then(draw, () => {}),
    REFRESH_MS,
  );

  const act = async (verb: "stop" | "kill", id: number) => {
    try {
      const r = verb === "stop"
        ? await client.stopRunner(id, "stopped from watch")
        : await client.killRunner(id, "killed from watch");
      state.runners.set(r.id, r);
      state.message = `runner ${id}: ${r.state}`;
    } catch (e) {
      state.message = `runner ${id}: ${(e as Error).message}`;
    }
    draw();
  };

  const answer = async (decision: "allow" | "deny", id: number) => {
    try {
      const q = await client.answerPermission(id, { decision, channel: "cli" });
      state.message = `runner ${id}: ${q.status} ${q.summary}`;
      state.runners.set(id, await client.getRunner(id));
    } catch (e) {
      state.message = `runner ${id}: ${(e as Error).message}`;
    }
    draw();
  };

  const handle = (key: Key): boolean => {
    const list = orderedRunners(state);
    const at = list.findIndex((r) => r.id === state.selected);
    const char = typeof key === "object" ? key.char : "";
    if (state.confirmKill !== undefined) {
      const id = state.confirmKill;
      state.confirmKill = undefined;
      if (char === "y" || char === "Y") void act("kill", id);
      else state.message = "kill cancelled";
      return true;
    }
    if (key === "ctrl-c" || char === "q") return false;
    state.message = undefined;
    if ((key === "down" || char === "j") && list.length) {
      state.selected = list[Math.min(list.length - 1, at + 1)].id;
    } else if ((key === "up" || char === "k") && list.length) state.selected = list[Math.max(0, at - 1)].id;
    else if (key === "enter") state.view = state.view === "list" ? "details" : "list";
    else if (key === "escape") state.view = "list";
    else if (char === "s" && state.selected !== undefined) void act("stop", state.selected);
    else if (char === "x" && state.selected !== undefined) state.confirmKill = state.selected;
    else if ((char === "a" || char === "d") && state.selected !== undefined) {
      if (state.runners.get(state.selected)?.pendingPermission) {
        void answer(char === "a" ? "allow" : "deny", state.selected);
      } else state.message = `runner ${state.selected} asks no permission now`;
    }
    return true;
  };

  try {
    draw();
    for await (const key of screen.keys()) {
      if (!handle(key)) break;
      draw();
    }
  } finally {
    stop.abort();
    clearInterval(ticker);
    clearInterval(poller);
    screen.restore();
    await stream;
  }
}
