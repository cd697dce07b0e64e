/**
 * Usage: tokens per day per project (bars, or cumulative lines) with the token budgets drawn as lines,
 * tokens per model, the cost (Claude Code's own where it reported it, marked ~ where estimated), a table
 * with the same numbers and a CSV export made in the page.
 */
import { useEffect, useMemo, useState } from "preact/hooks";
import { html } from "htm/preact";
import type { Budget } from "../../../lib/schemas/budget.ts";
import type { UsageRow } from "../../../lib/schemas/session.ts";
import { api, type ApiError } from "../api.ts";
import { ChartView, PALETTE } from "../chart.ts";
import { Empty, ErrorBox } from "../components.ts";
import { compact, csv, grouped, usd, utcDay } from "../format.ts";
import { costSourceText, formatCost } from "../../../lib/cost.ts";
import { useFleet } from "../store.ts";

const DAY = 86_400_000;

interface Data {
  days: string[];
  /** project → day → row */
  perProject: Map<string, Map<string, UsageRow>>;
  models: UsageRow[];
  total: UsageRow;
}

type View = "daily" | "cumulative";

function budgetLabel(b: Budget): string {
  return `Budget ${b.name} (${b.period === "none" ? "total" : `per ${b.period}`}): ${
    compact(b.tokenLimit ?? 0)
  }`;
}

export function UsagePage() {
  const f = useFleet();
  const [project, setProject] = useState("");
  const [range, setRange] = useState(30);
  const [view, setView] = useState<View>("daily");
  const [data, setData] = useState<Data | null>(null);
  const [error, setError] = useState<ApiError | null>(null);

  useEffect(() => {
    let cancelled = false;
    setData(null);
    setError(null);
    const now = Date.now();
    const since = utcDay(now - (range - 1) * DAY);
    const days = Array.from({ length: range }, (_, i) => utcDay(Date.parse(since + "T00:00:00Z") + i * DAY));
    (async () => {
      const byProject = await api.usage({ by: "project", since, project: project || undefined });
      const names = byProject.rows.filter((r) => r.total > 0).map((r) => r.key);
      const [perDay, models] = await Promise.all([
        Promise.all(names.map((p) => api.usage({ by: "day", since, project: p }))),
        api.usage({ by: "model", since, project: project || undefined }),
      ]);
      const perProject = new Map<string, Map<string, UsageRow>>();
      names.forEach((p, i) => perProject.set(p, new Map(perDay[i].rows.map((r) => [r.key, r]))));
      if (!cancelled) setData({ days, perProject, models: models.rows, total: byProject.total });
    })().catch((e) => !cancelled && setError(e));
    return () => {
      cancelled = true;
    };
  }, [project, range]);

  const budgets = f.budgets.filter((b) =>
    b.tokenLimit !== null &&
    (b.scope === "global" || (b.scope === "project" && (!project || b.scopeRef === project)))
  );
  const shownBudgets = budgets.filter((b) => view === "cumulative" || b.period === "day");

  const chart = useMemo(() => {
    if (!data) return null;
    const datasets: Record<string, unknown>[] = [];
    let i = 0;
    let points = 0;
    for (const [name, rows] of data.perProject) {
      let sum = 0;
      const values = data.days.map((d) => {
        const v = rows.get(d)?.total ?? 0;
        sum += v;
        return view === "cumulative" ? sum : v;
      });
      points += values.filter((v) => v > 0).length;
      const colour = PALETTE[i++ % PALETTE.length];
      datasets.push({
        type: view === "daily" ? "bar" : "line",
        label: name,
        data: values,
        backgroundColor: colour,
        borderColor: colour,
        borderWidth: view === "daily" ? 0 : 2,
        pointRadius: 0,
        stack: "tokens",
        tension: 0.2,
      });
    }
    for (const b of shownBudgets) {
      datasets.push({
        type: "line",
        label: budgetLabel(b),
        data: data.days.map(() => b.tokenLimit),
        borderColor: b.scope === "global" ? "#dc2626" : "#ea580c",
        borderDash: [6, 4],
        borderWidth: 2,
        pointRadius: 0,
        stack: `budget-${b.id}`,
      });
    }
    return {
      points,
      config: {
        type: "bar",
        data: { labels: data.days.map((d) => d.slice(5)), datasets },
        options: {
          interaction: { mode: "index", intersect: false },
          scales: {
            x: { stacked: true, grid: { display: false } },
            y: {
              stacked: view === "daily",
              beginAtZero: true,
              ticks: { callback: (v: number | string) => compact(Number(v)) },
            },
          },
          plugins: {
            legend: { position: "bottom" },
            tooltip: {
              callbacks: {
                label: (c: { dataset: { label: string }; parsed: { y: number } }) =>
                  `${c.dataset.label}: ${grouped(c.parsed.y)}`,
              },
            },
          },
        },
      },
    };
  }, [data, view, shownBudgets.map((b) => `${b.id}:${b.tokenLimit}`).join()]);

  const modelChart = useMemo(() => {
    if (!data || data.models.length === 0) return null;
    const parts = [
      ["Input", "input", "#2563eb"],
      ["Output", "output", "#16a34a"],
      ["Cache write", "cacheCreation", "#d97706"],
      ["Cache read", "cacheRead", "#9ca3af"],
    ] as const;
    return {
      type: "bar",
      data: {
        labels: data.models.map((m) => m.key || "(unknown)"),
        datasets: parts.map(([label, key, colour]) => ({
          label,
          data: data.models.map((m) => m[key]),
          backgroundColor: colour,
        })),
      },
      options: {
        indexAxis: "y",
        scales: {
          x: {
            stacked: true,
            beginAtZero: true,
            ticks: { callback: (v: number | string) => compact(Number(v)) },
          },
          y: { stacked: true },
        },
        plugins: { legend: { position: "bottom" } },
      },
    };
  }, [data]);

  const table = useMemo(() => {
    if (!data) return [];
    const rows: { day: string; project: string; r: UsageRow }[] = [];
    for (const [name, byDay] of data.perProject) {
      for (const [day, r] of byDay) rows.push({ day, project: name, r });
    }
    return rows.sort((a, b) => b.day.localeCompare(a.day) || a.project.localeCompare(b.project));
  }, [data]);

  const exportCsv = () => {
    if (!data) return;
    const text = csv([
      ["day", "project", "input", "output", "cache_write", "cache_read", "total", "cost_usd"],
      ...table.map(({ day, project, r }) => [
        day,
        project,
        r.input,
        r.output,
        r.cacheCreation,
        r.cacheRead,
        r.total,
        r.costUsd,
      ]),
    ]);
    const a = document.createElement("a");
    a.href = URL.createObjectURL(new Blob([text], { type: "text/csv;charset=utf-8" }));
    a.download = `stratavore-usage-${data.days[0]}-${data.days[data.days.length - 1]}${
      project ? `-${project}` : ""
    }.csv`;
    document.body.append(a);
    a.click();
    a.remove();
    setTimeout(() => URL.revokeObjectURL(a.href), 10_000);
  };

  const cost = data
    ? [...data.perProject].map(([name, byDay]) => ({
      name,
      tokens: [...byDay.values()].reduce((s, r) => s + r.total, 0),
      cost: [...byDay.values()].reduce((s, r) => s + r.costUsd, 0),
    }))
    : [];

  return html`<section aria-labelledby="usage-title">
    <div class="page-head"><h1 id="usage-title">Usage</h1></div>
    <form class="card filters" onSubmit=${(e: Event) => e.preventDefault()} aria-label="Usage filters">
      <div class="field">
        <label for="usage-project">Project</label>
        <select id="usage-project" value=${project}
          onChange=${(e: Event) => setProject((e.target as HTMLSelectElement).value)}>
          <option value="">All projects</option>
          ${f.projects.map((p) => html`<option value=${p.name}>${p.name}</option>`)}
        </select>
      </div>
      <div class="field">
        <label for="usage-range">Period</label>
        <select id="usage-range" value=${range}
          onChange=${(e: Event) => setRange(Number((e.target as HTMLSelectElement).value))}>
          <option value="7">Last 7 days</option>
          <option value="30">Last 30 days</option>
          <option value="90">Last 90 days</option>
        </select>
      </div>
      <fieldset class="field segmented">
        <legend>View</legend>
        ${
    (["daily", "cumulative"] as const).map((v) =>
      html`<label class="check"><input type="radio" name="usage-view" value=${v} checked=${view === v}
            onChange=${() => setView(v)} /> ${v === "daily" ? "Per day" : "Cumulative"}</label>`
    )
  }
      </fieldset>
      <button type="button" class="secondary" onClick=${exportCsv} disabled=${!data || table.length === 0}>
        Export CSV
      </button>
    </form>
    <${ErrorBox} error=${error} />
    ${!data && !error ? html`<${Empty}>Loading…</${Empty}>` : null}
    ${
    data && html`
      <div class="grid stats">
        <div class="card stat"><span class="muted small">Tokens</span>
          <strong data-total-tokens=${data.total.total}>${compact(data.total.total)}</strong></div>
        <div class="card stat"><span class="muted small">Cost</span>
          <strong data-total-cost=${data.total.costUsd} data-cost-source=${data.total.cost
            .source}>${formatCost(data.total.cost)}</strong><span class="muted small">${costSourceText(
              data.total.cost,
            )}</span></div>
        ${cost.map((c) =>
          html`<div class="card stat"><span class="muted small">${c.name}</span>
          <strong>${compact(c.tokens)}</strong><span class="muted small">${usd(c.cost)}</span></div>`
        )}
      </div>
      <section class="card" aria-labelledby="usage-chart-title">
        <h2 id="usage-chart-title">Tokens ${view === "daily" ? "per day" : "accumulated"} by project</h2>
        ${data.perProject.size === 0 ? html`<${Empty}>No usage in this period.</${Empty}>` : html`
          <${ChartView}
            id="usage-chart"
            config=${chart!.config}
            label=${`Tokens ${view === "daily" ? "per day" : "accumulated"} for ${
              [...data.perProject.keys()].join(", ")
            }; the table below has the numbers`}
            data=${{
              points: chart!.points,
              series: data.perProject.size,
              budgets: shownBudgets.length,
              view,
            }}
          />
        `}
        <p class="muted small">${budgets.length === 0
          ? "No token budgets are set."
          : view === "daily"
          ? "Dashed lines: daily token budgets. Switch to Cumulative to compare with weekly and monthly budgets."
          : "Dashed lines: token budgets (their limits per period)."}</p>
      </section>
      ${modelChart &&
        html`
          <section class="card" aria-labelledby="usage-models-title">
            <h2 id="usage-models-title">Tokens by model</h2>
            <${ChartView} id="model-chart" config=${modelChart}
              height=${Math.max(160, 60 + data.models.length * 44)}
              label=${`Tokens by model: ${data.models.map((m) => `${m.key} ${compact(m.total)}`).join(", ")}`}
              data=${{ models: data.models.length }} />
            <div class="table-wrap">
              <table class="rtable models" aria-labelledby="usage-models-title">
                <thead>
                  <tr>
                    <th scope="col">Model</th>
                    <th scope="col" class="num">Input</th>
                    <th scope="col" class="num">Output</th>
                    <th scope="col" class="num">Cache write</th>
                    <th scope="col" class="num">Cache read</th>
                    <th scope="col" class="num">Total</th>
                    <th scope="col" class="num">Cost</th>
                  </tr>
                </thead>
                <tbody>${data.models.map((m) =>
                  html`
                    <tr data-model=${m.key}>
                      <td data-label="Model"><code>${m.key}</code></td>
                      <td data-label="Input" class="num">${grouped(m.input)}</td>
                      <td data-label="Output" class="num">${grouped(m.output)}</td>
                      <td data-label="Cache write" class="num">${grouped(m.cacheCreation)}</td>
                      <td data-label="Cache read" class="num">${grouped(m.cacheRead)}</td>
                      <td data-label="Total" class="num">${grouped(m.total)}</td>
                      <td data-label="Cost" class="num">${formatCost(m.cost)}</td>
                    </tr>
                  `
                )}</tbody>
              </table>
            </div>
          </section>
        `}
      <section class="card" aria-labelledby="usage-table-title">
        <h2 id="usage-table-title">Per day and project</h2>
        ${table.length === 0 ? html`<${Empty}>No usage in this period.</${Empty}>` : html`
          <div class="table-wrap">
            <table class="rtable usage" aria-labelledby="usage-table-title">
              <thead>
                <tr>
                  <th scope="col">Day</th>
                  <th scope="col">Project</th>
                  <th scope="col" class="num">Input</th>
                  <th scope="col" class="num">Output</th>
                  <th scope="col" class="num">Cache write</th>
                  <th scope="col" class="num">Cache read</th>
                  <th scope="col" class="num">Total</th>
                  <th scope="col" class="num">Cost</th>
                </tr>
              </thead>
              <tbody>${table.map(({ day, project: p, r }) =>
                html`
                  <tr key=${`${day}/${p}`} data-day=${day} data-project=${p}>
                    <td data-label="Day">${day}</td>
                    <td data-label="Project">${p}</td>
                    <td data-label="Input" class="num">${grouped(r.input)}</td>
                    <td data-label="Output" class="num">${grouped(r.output)}</td>
                    <td data-label="Cache write" class="num">${grouped(r.cacheCreation)}</td>
                    <td data-label="Cache read" class="num">${grouped(r.cacheRead)}</td>
                    <td data-label="Total" class="num">${grouped(r.total)}</td>
                    <td data-label="Cost" class="num">${formatCost(r.cost)}</td>
                  </tr>
                `
              )}</tbody>
              <tfoot>
                <tr>
                  <th scope="row" colspan="2">Total</th>
                  <td class="num" data-label="Input">${grouped(data.total.input)}</td>
                  <td class="num" data-label="Output">${grouped(data.total.output)}</td>
                  <td class="num" data-label="Cache write">${grouped(data.total.cacheCreation)}</td>
                  <td class="num" data-label="Cache read">${grouped(data.total.cacheRead)}</td>
                  <td class="num" data-label="Total">${grouped(data.total.total)}</td>
                  <td class="num" data-label="Cost">${formatCost(data.total.cost)}</td>
                </tr>
              </tfoot>
            </table>
          </div>
        `}
      </section>
    `
  }
    <${LimitsHistory} />
  </section>`;
}

const WINDOW_TEXT: Record<string, string> = { five_hour: "5-hour window", seven_day: "weekly window" };

/** Each account's subscription windows over the last day: percent used as Claude Code reported it. */
function LimitsHistory() {
  const [series, setSeries] = useState<{ label: string; points: { x: number; y: number }[] }[] | null>(null);
  useEffect(() => {
    let cancelled = false;
    (async () => {
      const limits = await api.limits();
      const out: { label: string; points: { x: number; y: number }[] }[] = [];
      for (const a of limits.accounts) {
        for (const w of a.windows) {
          const h = await api.limitHistory({ account: a.key, window: w.window, since: "24h" });
          out.push({
            label: `${a.label} · ${WINDOW_TEXT[w.window] ?? w.window}`,
            points: h.samples.map((s) => ({ x: Date.parse(s.at), y: Math.round(s.utilization * 1000) / 10 })),
          });
        }
      }
      if (!cancelled) setSeries(out);
    })().catch(() => !cancelled && setSeries([]));
    return () => {
      cancelled = true;
    };
  }, []);
  const config = useMemo(() => {
    if (!series || series.length === 0) return null;
    const times = [...new Set(series.flatMap((s) => s.points.map((p) => p.x)))].sort((a, b) => a - b);
    const labels = times.map((t) => new Date(t).toISOString().slice(11, 16));
    return {
      type: "line" as const,
      data: {
        labels,
        datasets: series.map((s, i) => {
          // Each series holds its last value until its next sample (a step line).
          let last: number | null = null;
          const at = new Map(s.points.map((p) => [p.x, p.y]));
          const data = times.map((t) => (last = at.get(t) ?? last) ?? NaN);
          return {
            label: s.label,
            data,
            borderColor: PALETTE[i % PALETTE.length],
            stepped: true,
            pointRadius: 0,
          };
        }),
      },
      options: { scales: { y: { min: 0, max: 100, title: { display: true, text: "% used" } } } },
    };
  }, [series]);
  if (!series || series.length === 0) return null;
  return html`
    <section class="card" aria-labelledby="limits-history-title">
      <h2 id="limits-history-title">Subscription windows, last 24 hours</h2>
      <${ChartView} id="limits-chart" config=${config!} height=${240}
        label=${`Percent used of ${series.map((s) => s.label).join(", ")} over the last 24 hours`}
        data=${{ series: series.length, points: series.reduce((n, s) => n + s.points.length, 0) }} />
    </section>
  `;
}
