/** One runner: every detail, its recent events, its log (detached runners), stop and kill. */
import { useEffect, useRef, useState } from "preact/hooks";
import { costSourceText, formatCost } from "../../../lib/cost.ts";
import { html } from "htm/preact";
import type { EventEnvelope } from "../../../lib/schemas/event.ts";
import type { PermissionRequest, Runner } from "../../../lib/schemas/runner.ts";
import { api, type ApiError, errorOf, raw, readLines } from "../api.ts";
import { ActivityBadge, ConfirmDialog, Empty, ErrorBox, StateBadge } from "../components.ts";
import { age, bytes, clock, grouped, percent, span, time, tokenTotal } from "../format.ts";
import { type LogLine, readableLines } from "../../../lib/claude/stream_json.ts";
import { fleet, isActive, useFleet, useNow } from "../store.ts";
import { eventSummary } from "./events.ts";
import { TerminalView } from "./terminal.ts";
import { WorktreePanel } from "./worktree.ts";

const MAX_LOG_LINES = 5000;

function LogView({ runner }: { runner: Runner }) {
  const [lines, setLines] = useState<{ raw: string; readable: LogLine[] }[]>([]);
  const [rawMode, setRawMode] = useState(false);
  const [state, setState] = useState<"loading" | "following" | "ended" | "error">("loading");
  const [error, setError] = useState<Error | null>(null);
  const box = useRef<HTMLDivElement>(null);
  const stick = useRef(true);

  useEffect(() => {
    const stop = new AbortController();
    let buffer: { raw: string; readable: LogLine[] }[] = [];
    let flush: ReturnType<typeof setTimeout> | 0 = 0;
    const push = (line: string) => {
      buffer.push({ raw: line, readable: readableLines(line) });
      if (!flush) {
        flush = setTimeout(() => {
          flush = 0;
          const add = buffer;
          buffer = [];
          setLines((prev) => [...prev, ...add].slice(-MAX_LOG_LINES));
        }, 50);
      }
    };
    (async () => {
      try {
        const res = await raw("GET", `/api/v1/runners/${runner.id}/logs?follow=true`, {
          signal: stop.signal,
        });
        if (!res.ok) throw await errorOf(res);
        setState("following");
        await readLines(res, push, stop.signal);
        if (!stop.signal.aborted) setState("ended");
      } catch (e) {
        if (stop.signal.aborted) return;
        setError(e as Error);
        setState("error");
      }
    })();
    return () => {
      stop.abort();
      clearTimeout(flush);
    };
  }, [runner.id]);

  useEffect(() => {
    const el = box.current;
    if (el && stick.current) el.scrollTop = el.scrollHeight;
  }, [lines, rawMode]);

  const shown = rawMode ? lines.map((l) => ({ kind: "raw", text: l.raw })) : lines.flatMap((l) => l.readable);
  return html`
    <section class="card" aria-labelledby="log-title">
      <div class="section-head">
        <h2 id="log-title">Log</h2>
        <span class="muted small" role="status">${{
          loading: "loading…",
          following: "following",
          ended: "complete",
          error: "",
        }[state]}</span>
        <label class="check"><input type="checkbox" checked=${rawMode}
            onChange=${(e: Event) =>
              setRawMode((e.target as HTMLInputElement).checked)} /> Raw stream-json</label>
      </div>
      <${ErrorBox} error=${error} />
      <div
        class="log"
        ref=${box}
        tabindex="0"
        role="log"
        aria-label=${`Output of runner ${runner.id}`}
        onScroll=${(e: Event) => {
          const el = e.target as HTMLElement;
          stick.current = el.scrollHeight - el.scrollTop - el.clientHeight < 40;
        }}
      >
          ${shown.length === 0 && state !== "error"
            ? html`<p class="muted">${state === "loading" ? "Loading…" : "Nothing written yet."}</p>`
            : shown.map((l, i) => html`<div key=${i} class=${`log-line log-${l.kind}`}>${l.text}</div>`)}
        </div>
    </section>
  `;
}

function Details({ r, now }: { r: Runner; now: number }) {
  const up = r.startedAt ? (r.endedAt ? Date.parse(r.endedAt) : now) - Date.parse(r.startedAt) : null;
  const rows: [string, unknown][] = [
    ["Project", html`<a href="#/">${r.project}</a>`],
    ["Mode", r.mode],
    ["Command", html`<code>${[r.command, ...r.args].join(" ")}</code>`],
    ["Folder", html`<code>${r.cwd}</code>`],
    ["Host / PID", `${r.host ?? "–"} / ${r.pid ?? "–"}`],
    ["Session", r.sessionId ? html`<code>${r.sessionId}</code>` : "–"],
    ["Created", time(r.createdAt)],
    ["Started", time(r.startedAt)],
    ["Uptime", up === null ? "–" : span(up)],
    ["Ended", time(r.endedAt)],
    [
      "Exit",
      r.exitCode !== null || r.exitSignal
        ? `${r.exitCode ?? ""}${r.exitSignal ? ` ${r.exitSignal}` : ""}`
        : "–",
    ],
    ["Reason", r.reason ?? "–"],
    ["Heartbeat", `${age(r.lastHeartbeatAt, now)} (${r.heartbeatCount} received)`],
    ["CPU / memory", `${percent(r.cpuPercent)} / ${bytes(r.rssBytes)}`],
    [
      "Tokens",
      `${grouped(tokenTotal(r.tokens))} (input ${grouped(r.tokens.input)}, output ${
        grouped(r.tokens.output)
      }, cache write ${grouped(r.tokens.cacheCreation)}, cache read ${grouped(r.tokens.cacheRead)})`,
    ],
    [
      "Cost",
      html`
        <span data-cost=${r.cost.usd} data-cost-source=${r.cost.source}>${formatCost(r.cost, 6)}</span>
        <span class="muted small">${costSourceText(r.cost)}</span>
      `,
    ],
    ["Labels", Object.entries(r.labels).map(([k, v]) => `${k}=${v}`).join(", ") || "–"],
  ];
  if (r.prompt) rows.push(["Prompt", html`<span class="prompt">${r.prompt}</span>`]);
  return html`<dl class="details">
    ${
    rows.map(([k, v]) =>
      html`
        <div class="detail">
          <dt>${k}</dt>
          <dd>${v}</dd>
        </div>
      `
    )
  }
  </dl>`;
}

/**
 * The runner's permission request waiting for an answer (Claude Code's dialog): what the tool would do, and
 * Approve / Deny when the project takes remote answers. Answered in the terminal, it disappears.
 */
function PermissionPanel({ runner }: { runner: Runner }) {
  const [request, setRequest] = useState<PermissionRequest | null>(null);
  const [error, setError] = useState<Error | null>(null);
  const [busy, setBusy] = useState(false);
  useEffect(() => {
    let cancelled = false;
    const load = () =>
      api.permissions(runner.id)
        .then((all) => !cancelled && setRequest(all.find((q) => q.status === "pending") ?? null))
        .catch((e) => !cancelled && setError(e));
    void load();
    const off = fleet.onEvent((e) => {
      if (e.entityId === String(runner.id) && e.type.startsWith("runner.permission_")) void load();
    });
    return () => {
      cancelled = true;
      off();
    };
  }, [runner.id]);
  if (!request) return error ? html`<${ErrorBox} error=${error} />` : null;
  const answer = async (decision: "allow" | "deny") => {
    setBusy(true);
    setError(null);
    try {
      await api.answerPermission(runner.id, { decision, requestId: request.id });
      setRequest(null);
    } catch (e) {
      setError(e as ApiError);
    } finally {
      setBusy(false);
    }
  };
  const input = JSON.stringify(request.input, null, 2);
  return html`<section class="card permission" aria-labelledby="permission-title" data-permission=${request.id}>
    <h2 id="permission-title">Asks permission: ${request.tool}</h2>
    <p><code class="summary">${request.summary}</code></p>
    ${
    input.length > 2
      ? html`
        <details>
          <summary>Tool input</summary>
          <pre class="tool-input">${input}</pre>
        </details>
      `
      : null
  }
    <${ErrorBox} error=${error} title="The daemon refused" />
    ${
    request.remote
      ? html`
        <div class="actions">
          <button type="button" class="primary" disabled=${busy} onClick=${() =>
            answer("allow")}>Approve</button>
          <button type="button" class="danger" disabled=${busy} onClick=${() => answer("deny")}>Deny</button>
          <span class="muted small">The terminal can answer too; the first answer wins.</span>
        </div>
      `
      : html`<p class="muted small">Answer it in the session's terminal (this project takes no remote answers:
          <code>stratavore project set ${request.project} --approvals remote</code>).</p>`
  }
  </section>`;
}

function RunnerEvents({ id }: { id: number }) {
  const [loaded, setLoaded] = useState<EventEnvelope[] | null>(null);
  const [live, setLive] = useState<EventEnvelope[]>([]);
  const [error, setError] = useState<Error | null>(null);
  useEffect(() => {
    let cancelled = false;
    setLoaded(null);
    setLive([]);
    const off = fleet.onEvent((e) => {
      if (!cancelled && e.entityId === String(id) && e.type.startsWith("runner.")) {
        setLive((prev) => [e, ...prev]);
      }
    });
    api.recentEvents({ types: "runner.*", limit: 1000 })
      .then((all) => !cancelled && setLoaded(all.filter((e) => e.entityId === String(id)).reverse()))
      .catch((e) => setError(e));
    return () => {
      cancelled = true;
      off();
    };
  }, [id]);
  const seen = new Set<number>();
  const events = loaded === null
    ? null
    : [...live, ...loaded].filter((e) => !seen.has(e.id) && (seen.add(e.id), true));
  return html`<section class="card" aria-labelledby="runner-events-title">
    <h2 id="runner-events-title">Recent events</h2>
    <${ErrorBox} error=${error} />
    ${
    events === null
      ? html`<${Empty}>Loading…</${Empty}>`
      : events.length === 0
      ? html`<${Empty}>No events.</${Empty}>`
      : html`<ol class="timeline">${
        events.map((e) =>
          html`
            <li key=${e.id} data-type=${e.type}>
              <time datetime=${e.occurredAt}>${clock(e.occurredAt)}</time>
              <span class="etype">${e.type}</span>
              <span class="esum">${eventSummary(e)}</span>
            </li>
          `
        )
      }</ol>`
  }
  </section>`;
}

export function RunnerPage({ id }: { id: number }) {
  const f = useFleet();
  const now = useNow(1000);
  const [loadError, setLoadError] = useState<Error | null>(null);
  const [actionError, setActionError] = useState<Error | null>(null);
  const [busy, setBusy] = useState(false);
  const [confirmKill, setConfirmKill] = useState(false);
  const r = f.runners.get(id);
  // A terminal once shown stays on the page when the session ends, with its last screen and exit code.
  const terminalShown = useRef<number | null>(null);

  useEffect(() => {
    setLoadError(null);
    api.runner(id).then((fresh) => fleet.upsert(fresh)).catch((e) => setLoadError(e));
  }, [id]);

  const act = async (what: "stop" | "kill") => {
    setBusy(true);
    setActionError(null);
    try {
      fleet.upsert(await api[what](id));
    } catch (e) {
      setActionError(e as ApiError);
    } finally {
      setBusy(false);
    }
  };

  if (!r) {
    return html`<section><h1>Runner #${id}</h1>${
      loadError ? html`<${ErrorBox} error=${loadError} />` : html`<${Empty}>Loading…</${Empty}>`
    }</section>`;
  }
  const active = isActive(r);
  if (r.mode === "pty" && active) terminalShown.current = r.id;
  const showTerminal = r.mode === "pty" && (active || terminalShown.current === r.id);
  return html`<section aria-labelledby="runner-title" data-runner-page=${r.id}>
    <div class="page-head">
      <h1 id="runner-title">Runner #${r.id}</h1>
      <p class="runner-state badges"><${StateBadge} state=${r.state} /><${ActivityBadge} runner=${r} /></p>
      <div class="actions">
        <button type="button" class="secondary" disabled=${!active || r.state === "stopping" || busy}
          onClick=${() => act("stop")}>Stop</button>
        <button type="button" class="danger" disabled=${!active || busy}
          onClick=${() => setConfirmKill(true)}>Kill</button>
      </div>
    </div>
    <${ErrorBox} error=${actionError} title="The daemon refused" />
    ${active && r.activity === "waiting_for_input" ? html`<${PermissionPanel} runner=${r} />` : null}
    <div class="card"><${Details} r=${r} now=${now} /></div>
    ${r.worktree ? html`<${WorktreePanel} runner=${r} />` : null}
    ${
    showTerminal ? html`<${TerminalView} runner=${r} />` : r.logPath ? html`<${LogView} runner=${r} />` : null
  }
    <${RunnerEvents} id=${r.id} />
    <${ConfirmDialog}
      open=${confirmKill}
      title=${`Kill runner #${r.id}?`}
      confirmLabel="Kill now"
      danger=${true}
      onClose=${(yes: boolean) => {
    setConfirmKill(false);
    if (yes) void act("kill");
  }}
    >
      <p>The runner is marked killed at once and its agent ends the whole process tree on its next
        heartbeat, without a graceful stop. Use Stop to let the session finish cleanly.</p>
    </${ConfirmDialog}>
  </section>`;
}
