/** The fleet: projects with their quota and budget bars, and every runner with live state. */
import { useState } from "preact/hooks";
import { html } from "htm/preact";
import type { Budget } from "../../../lib/schemas/budget.ts";
import type { Project } from "../../../lib/schemas/project.ts";
import type { Runner } from "../../../lib/schemas/runner.ts";
import type { LimitsResponse } from "../../../lib/schemas/limits.ts";
import { ActivityBadge, Bar, Empty, ErrorBox, StateBadge, WorktreeBadge } from "../components.ts";
import { age, bytes, compact, grouped, percent, span, time, tokenTotal } from "../format.ts";
import { RUNNER_STATES as STATES } from "../../../lib/runner_states.ts";
import { type Fleet, isActive, useFleet, useNow } from "../store.ts";

function budgetText(b: Budget): string {
  const parts: string[] = [];
  if (b.tokenLimit !== null) parts.push(`${compact(b.usage.tokens)} / ${compact(b.tokenLimit)} tokens`);
  if (b.costLimitUsd !== null) {
    parts.push(`$${b.usage.costUsd.toFixed(2)} / $${b.costLimitUsd.toFixed(2)}`);
  }
  return `${parts.join(" · ")} (${Math.round(b.usage.percent)}%)`;
}

function BudgetBar({ b, now }: { b: Budget; now: number }) {
  const resets = b.usage.resetsAt ? `, resets in ${span(Date.parse(b.usage.resetsAt) - now)}` : "";
  return html`
    <div class="budget" data-budget=${b.name}>
      <${Bar}
        label=${`Budget ${b.period === "none" ? "" : `(${b.period})`}${resets}`}
        value=${b.usage.percent}
        max=${100}
        text=${budgetText(b)}
        state=${b.usage.state}
      />
    </div>
  `;
}

const WINDOW_TEXT: Record<string, string> = { five_hour: "5-hour window", seven_day: "Weekly window" };

/** Each account's subscription windows: a bar per window with the time to reset. */
function LimitsCard({ limits, now }: { limits: LimitsResponse; now: number }) {
  const warn = limits.thresholds[0] ?? 80;
  const waiting = limits.queue.filter((q) => q.status === "waiting");
  return html`<div class="card limits" aria-label="Subscription limits">
    ${
    limits.accounts.map((a) =>
      html`<div class="limit-account" data-account=${a.key}>
        <p class="muted small" title=${a.key}>${
        a.kind === "account" ? "Account" : "Claude config"
      } ${a.label}</p>
        ${
        a.windows.map((w) => {
          const left = w.resetsAt ? Date.parse(w.resetsAt) - now : NaN;
          const resets = Number.isFinite(left) && left > 0 ? `resets in ${span(left)}` : "reset";
          const text = w.limited && w.resetsAt
            ? `${w.percent}% · limited until ${time(w.resetsAt)}`
            : `${w.percent}% · ${resets}`;
          return html`
            <div data-window=${w.window} data-percent=${w.percent}>
              <${Bar}
                label=${WINDOW_TEXT[w.window] ?? w.window}
                value=${w.percent}
                max=${100}
                text=${text}
                state=${w.limited ? "exceeded" : w.percent >= warn ? "warning" : "ok"}
              />
            </div>
          `;
        })
      }
      </div>`
    )
  }
    ${
    waiting.length
      ? html`<p class="muted small" data-queue=${waiting.length}>${waiting.length} waiting for the reset: ${
        waiting.map((q) => `${q.kind === "resume" ? "continue" : "launch"} in ${q.project}`).join(", ")
      }</p>`
      : null
  }
  </div>`;
}

function ProjectCard({ p, fleet, now }: { p: Project; fleet: Fleet; now: number }) {
  const active = fleet.loaded ? fleet.activeIn(p.name) : p.activeRunners;
  const budgets = fleet.budgets.filter((b) => b.scope === "project" && b.scopeRef === p.name);
  const full = active >= p.maxRunners;
  return html`<article class="card project" data-project=${p.name}>
    <header class="card-head">
      <h3>${p.name}</h3>
      <a class="button small" href=${`#/launch?project=${encodeURIComponent(p.name)}`}
        aria-label=${`Launch a runner in ${p.name}`}>Launch</a>
    </header>
    <p class="muted path" title=${p.path}>${p.path}</p>
    <div data-quota=${`${active}/${p.maxRunners}`}>
      <${Bar}
        label="Active runners"
        value=${active}
        max=${p.maxRunners}
        text=${`${active} / ${p.maxRunners}${full ? " (full)" : ""}`}
        state=${full ? (active > p.maxRunners ? "exceeded" : "warning") : "ok"}
      />
    </div>
    ${budgets.map((b) => html`<${BudgetBar} key=${b.id} b=${b} now=${now} />`)}
    <p class="muted small">${compact(p.tokensThisPeriod)} tokens this period</p>
  </article>`;
}

function RunnerRow({ r, now }: { r: Runner; now: number }) {
  const up = r.startedAt ? (r.endedAt ? Date.parse(r.endedAt) : now) - Date.parse(r.startedAt) : null;
  const hbAge = r.lastHeartbeatAt ? now - Date.parse(r.lastHeartbeatAt) : null;
  return html`
    <tr data-runner=${r.id} data-state=${r.state} class=${isActive(r) ? "" : "ended"}>
      <td data-label="Runner"><a href=${`#/runners/${r.id}`}>#${r.id}</a></td>
      <td data-label="Project">${r.project}</td>
      <td data-label="State">
        <span class="badges"><${StateBadge} state=${r
          .state} /><${ActivityBadge} runner=${r} /><${WorktreeBadge}
            runner=${r} /></span>
      </td>
      <td data-label="Uptime">${up === null ? "–" : span(up)}</td>
      <td data-label="CPU" class="num">${isActive(r) ? percent(r.cpuPercent) : "–"}</td>
      <td data-label="Memory" class="num">${isActive(r) ? bytes(r.rssBytes) : "–"}</td>
      <td data-label="Tokens" class="num" title=${grouped(tokenTotal(r.tokens))}>${compact(
        tokenTotal(r.tokens),
      )}</td>
      <td data-label="Heartbeat" class=${hbAge !== null && hbAge > 30_000 && isActive(r) ? "stale" : ""}
        title=${time(r.lastHeartbeatAt)}>${isActive(r) ? age(r.lastHeartbeatAt, now) : "–"}</td>
    </tr>
  `;
}

export function FleetPage() {
  const fleet = useFleet();
  const now = useNow(1000);
  const [showEnded, setShowEnded] = useState(true);
  const runners = [...fleet.runners.values()]
    .filter((r) => showEnded || isActive(r))
    .sort((a, b) => Number(isActive(b)) - Number(isActive(a)) || b.id - a.id);
  const counts = Object.fromEntries(STATES.map((s) => [s, 0])) as Record<string, number>;
  for (const r of fleet.runners.values()) counts[r.state]++;
  const global = fleet.budgets.filter((b) => b.scope === "global");

  return html`<section aria-labelledby="fleet-title">
    <div class="page-head">
      <h1 id="fleet-title">Fleet</h1>
      <p class="counts" aria-label="Runners by state">
        ${STATES.slice(0, 3).map((s) => html`<span class=${`count state-${s}`}>${counts[s]} ${s}</span>`)}
      </p>
    </div>
    <${ErrorBox} error=${fleet.error} />
    ${
    fleet.limits && fleet.limits.accounts.length
      ? html`
        <h2>Subscription limits</h2>
        <${LimitsCard} limits=${fleet.limits} now=${now} />
      `
      : null
  }
    ${
    global.length
      ? html`<div class="card">${
        global.map((b) => html`<${BudgetBar} key=${b.id} b=${b} now=${now} />`)
      }</div>`
      : null
  }

    <h2>Projects</h2>
    ${
    !fleet.loaded
      ? html`<${Empty}>Loading…</${Empty}>`
      : fleet.projects.length === 0
      ? html`<${Empty}>No projects yet: create one with <code>stratavore new NAME --path DIR</code>.</${Empty}>`
      : html`<div class="grid projects">
          ${
        fleet.projects.map((p) => html`<${ProjectCard} key=${p.name} p=${p} fleet=${fleet} now=${now} />`)
      }
        </div>`
  }

    <div class="section-head">
      <h2 id="runners-title">Runners</h2>
      <label class="check"><input type="checkbox" checked=${showEnded}
        onChange=${(e: Event) => setShowEnded((e.target as HTMLInputElement).checked)} /> Show ended</label>
    </div>
    ${
    fleet.loaded && runners.length === 0
      ? html`<${Empty}>No runners${showEnded ? "" : " active"}. <a href="#/launch">Launch one</a>.</${Empty}>`
      : html`
        <div class="table-wrap">
          <table class="rtable runners" aria-labelledby="runners-title">
            <thead>
              <tr>
                <th scope="col">Runner</th>
                <th scope="col">Project</th>
                <th scope="col">State</th>
                <th scope="col">Uptime</th>
                <th scope="col" class="num">CPU</th>
                <th scope="col" class="num">Memory</th>
                <th scope="col" class="num">Tokens</th>
                <th scope="col">Heartbeat</th>
              </tr>
            </thead>
            <tbody>${runners.map((r) => html`<${RunnerRow} key=${r.id} r=${r} now=${now} />`)}</tbody>
          </table>
        </div>
      `
  }
  </section>`;
}
