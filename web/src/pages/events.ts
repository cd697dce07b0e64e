/** Recent events with a type filter (and new ones live), and the dead letters with their retry. */
import { globListMatcher } from "../../../lib/glob.ts";
import { useEffect, useState } from "preact/hooks";
import { html } from "htm/preact";
import type { DeadEvent, EventEnvelope } from "../../../lib/schemas/event.ts";
import type { Runner } from "../../../lib/schemas/runner.ts";
import { api, type ApiError } from "../api.ts";
import { Empty, ErrorBox } from "../components.ts";
import { time } from "../format.ts";
import { fleet } from "../store.ts";

const TYPE_RE = /^[a-z0-9_.*]+(,[a-z0-9_.*]+)*$/;

/** What an event says, in one line. */
export function eventSummary(e: EventEnvelope): string {
  const p = e.payload as Record<string, unknown>;
  const r = p.runner as Runner | undefined;
  if (e.type === "runner.activity") {
    const a = String(p.activity ?? "").replace(/_/g, " ");
    return `runner ${e.entityId} ${a}${p.detail ? ` (${p.detail})` : ""}${p.message ? `: ${p.message}` : ""}`;
  }
  if (r && e.type.startsWith("runner.")) {
    return `runner ${r.id} → ${r.state}${r.reason ? ` (${r.reason})` : ""}`;
  }
  if (typeof p.message === "string") return p.message;
  if (e.type === "event.dead_lettered") {
    return `${p.eventType} #${p.eventId} after ${p.attempts} attempts: ${p.error}`;
  }
  if (e.type.startsWith("daemon.")) {
    return `daemon ${p.daemonId ?? e.entityId} ${p.version ?? ""} ${p.url ?? ""}`;
  }
  if (e.type.startsWith("project.")) {
    const changed = Array.isArray(p.changed) ? ` (${(p.changed as string[]).join(", ")})` : "";
    return `project ${e.entityId}${changed}`;
  }
  const text = JSON.stringify(p);
  return text.length > 160 ? text.slice(0, 159) + "…" : text;
}

function DeadLetters() {
  const [dead, setDead] = useState<{ events: DeadEvent[]; total: number } | null>(null);
  const [error, setError] = useState<ApiError | null>(null);
  const [note, setNote] = useState("");
  const load = () => api.deadEvents().then(setDead).catch(setError);
  useEffect(() => {
    void load();
    return fleet.onEvent((e) => e.type === "event.dead_lettered" && void load());
  }, []);
  const retry = async (id?: number) => {
    setError(null);
    try {
      const { requeued } = await api.retryDead(id);
      setNote(`Queued again: ${requeued.map((n) => `#${n}`).join(", ") || "nothing"}.`);
      await load();
    } catch (e) {
      setError(e as ApiError);
    }
  };
  return html`<section class="card" aria-labelledby="dead-title">
    <div class="section-head">
      <h2 id="dead-title">Dead letters ${dead ? html`<span class="muted">(${dead.total})</span>` : null}</h2>
      ${
    dead && dead.total > 1
      ? html`<button type="button" class="secondary small" onClick=${() => retry()}>Retry all</button>`
      : null
  }
    </div>
    <p class="muted small">Events the broker kept refusing. Retrying queues them for delivery again.</p>
    <${ErrorBox} error=${error} />
    ${note ? html`<p role="status" class="note">${note}</p>` : null}
    ${
    dead === null
      ? html`<${Empty}>Loading…</${Empty}>`
      : dead.events.length === 0
      ? html`<${Empty}>No dead-lettered events.</${Empty}>`
      : html`
        <div class="table-wrap">
          <table class="rtable dead">
            <thead>
              <tr>
                <th scope="col">Event</th>
                <th scope="col">Type</th>
                <th scope="col">Entity</th>
                <th scope="col" class="num">Attempts</th>
                <th scope="col">Last error</th>
                <th scope="col">Dead since</th>
                <th scope="col"><span class="sr-only">Actions</span></th>
              </tr>
            </thead>
            <tbody>${dead.events.map((d) =>
              html`
                <tr key=${d.id} data-dead=${d.id}>
                  <td data-label="Event">#${d.id}</td>
                  <td data-label="Type"><code>${d.type}</code></td>
                  <td data-label="Entity">${d.entityId}${d.project ? ` (${d.project})` : ""}</td>
                  <td data-label="Attempts" class="num">${d.attempts}</td>
                  <td data-label="Last error" class="wrap">${d.lastError ?? "–"}</td>
                  <td data-label="Dead since">${time(d.deadAt)}</td>
                  <td><button type="button" class="secondary small" aria-label=${`Retry event ${d.id}`}
                              onClick=${() => retry(d.id)}>Retry</button></td>
                </tr>
              `
            )}</tbody>
          </table>
        </div>
      `
  }
  </section>`;
}

export function EventsPage() {
  const [types, setTypes] = useState("");
  const [applied, setApplied] = useState("");
  const [limit, setLimit] = useState(100);
  const [liveOn, setLiveOn] = useState(true);
  const [events, setEvents] = useState<EventEnvelope[] | null>(null);
  const [error, setError] = useState<ApiError | Error | null>(null);

  useEffect(() => {
    let cancelled = false;
    setEvents(null);
    setError(null);
    api.recentEvents({ types: applied || undefined, limit }).then((list) => {
      if (!cancelled) setEvents(list.reverse());
    }).catch((e) => !cancelled && setError(e));
    return () => {
      cancelled = true;
    };
  }, [applied, limit]);

  useEffect(() => {
    if (!liveOn) return;
    const matches = globListMatcher(applied);
    return fleet.onEvent((e) => {
      if (!matches(e.type)) return;
      setEvents((prev) => prev && !prev.some((p) => p.id === e.id) ? [e, ...prev].slice(0, limit) : prev);
    });
  }, [applied, limit, liveOn]);

  const submit = (e: Event) => {
    e.preventDefault();
    const spec = types.replace(/\s+/g, "");
    if (spec && !TYPE_RE.test(spec)) {
      setError(new Error("Event types are names such as runner.* or runner.failed,budget.*"));
      return;
    }
    setApplied(spec);
  };

  return html`<section aria-labelledby="events-title">
    <div class="page-head"><h1 id="events-title">Events</h1></div>
    <form class="card filters" onSubmit=${submit} role="search" aria-label="Filter events">
      <div class="field">
        <label for="ev-types">Types</label>
        <input id="ev-types" name="types" value=${types} placeholder="runner.*,budget.*" autocomplete="off"
          list="ev-type-list" onInput=${(e: Event) => setTypes((e.target as HTMLInputElement).value)} />
        <datalist id="ev-type-list">
          ${
    ["runner.*", "project.*", "budget.*", "daemon.*", "runner.failed", "runner.activity"].map((t) =>
      html`<option value=${t}></option>`
    )
  }
        </datalist>
      </div>
      <div class="field">
        <label for="ev-limit">Show</label>
        <select id="ev-limit" value=${limit} onChange=${(e: Event) =>
    setLimit(Number((e.target as HTMLSelectElement).value))}>
          ${[50, 100, 500, 1000].map((n) => html`<option value=${n}>${n} latest</option>`)}
        </select>
      </div>
      <label class="check"><input type="checkbox" checked=${liveOn}
        onChange=${(e: Event) =>
    setLiveOn((e.target as HTMLInputElement).checked)} /> Add new events live</label>
      <button type="submit" class="primary">Apply</button>
    </form>
    <${ErrorBox} error=${error} />
    ${
    events === null
      ? html`<${Empty}>Loading…</${Empty}>`
      : events.length === 0
      ? html`<${Empty}>No events${applied ? ` of type ${applied}` : ""}.</${Empty}>`
      : html`
        <div class="table-wrap">
          <table class="rtable events" aria-label="Events, newest first">
            <thead>
              <tr>
                <th scope="col" class="num">Seq</th>
                <th scope="col">Time</th>
                <th scope="col">Type</th>
                <th scope="col">Project</th>
                <th scope="col">What</th>
              </tr>
            </thead>
            <tbody>${events.map((e) =>
              html`
                <tr key=${e.id} data-type=${e.type}>
                  <td data-label="Seq" class="num">${e.seq}</td>
                  <td data-label="Time"><time datetime=${e.occurredAt}>${time(e.occurredAt)}</time></td>
                  <td data-label="Type"><code>${e.type}</code></td>
                  <td data-label="Project">${e.project ?? "–"}</td>
                  <td data-label="What" class="wrap">${(e.payload as { runner?: Runner }).runner
                    ? html`<a href=${`#/runners/${e.entityId}`}>${eventSummary(e)}</a>`
                    : eventSummary(e)}</td>
                </tr>
              `
            )}</tbody>
          </table>
        </div>
      `
  }
    <${DeadLetters} />
  </section>`;
}
