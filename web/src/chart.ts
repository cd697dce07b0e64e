/** Chart.js, registered with only the parts the dashboard draws (bars, lines, legend, tooltips). */
import {
  BarController,
  BarElement,
  CategoryScale,
  Chart,
  type ChartConfiguration,
  Legend,
  LinearScale,
  LineController,
  LineElement,
  PointElement,
  Tooltip,
} from "chart.js";
import { useEffect, useRef } from "preact/hooks";
import { html } from "htm/preact";

Chart.register(
  BarController,
  BarElement,
  CategoryScale,
  LinearScale,
  LineController,
  LineElement,
  PointElement,
  Legend,
  Tooltip,
);

/** Distinct colours that read on light and dark backgrounds. */
export const PALETTE = [
  "#2563eb",
  "#16a34a",
  "#d97706",
  "#9333ea",
  "#0891b2",
  "#db2777",
  "#65a30d",
  "#dc2626",
  "#4f46e5",
  "#0d9488",
];

function cssVar(name: string, fallback: string): string {
  return getComputedStyle(document.documentElement).getPropertyValue(name).trim() || fallback;
}

/** A chart in a figure; `label` is its text alternative (the table below holds the same numbers). */
export function ChartView(
  { config, label, id, height = 320, data }: {
    // deno-lint-ignore no-explicit-any
    config: ChartConfiguration<any, number[], string>;
    label: string;
    id: string;
    height?: number;
    /** Exposed as data-* on the figure, so tests can tell what was drawn. */
    data?: Record<string, string | number>;
  },
) {
  const canvas = useRef<HTMLCanvasElement>(null);
  useEffect(() => {
    if (!canvas.current) return;
    Chart.defaults.color = cssVar("--muted", "#555");
    Chart.defaults.borderColor = cssVar("--grid", "#e5e7eb");
    Chart.defaults.font.family = cssVar("--font", "system-ui, sans-serif");
    const chart = new Chart(canvas.current, {
      ...config,
      options: { animation: false, responsive: true, maintainAspectRatio: false, ...config.options },
    });
    return () => chart.destroy();
  }, [config]);
  const attrs = Object.fromEntries(Object.entries(data ?? {}).map(([k, v]) => [`data-${k}`, v]));
  return html`
    <figure class="chart" id=${id} ...${attrs}>
      <div class="chart-box" style=${{ height: `${height}px` }}>
        <canvas ref=${canvas} role="img" aria-label=${label}></canvas>
      </div>
    </figure>
  `;
}
