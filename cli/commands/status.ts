/** `stratavore status`: is the daemon up, where, on what storage, and how many runners in each state. */
import { RUNNER_STATES } from "../../lib/schemas/runner.ts";
import type { Status } from "../../lib/schemas/status.ts";
import { VERSION } from "../../lib/version.ts";
import { connect } from "../connect.ts";
import { contextFrom, type GlobalOptions } from "../../lib/startup.ts";
import { paint } from "../render/ansi.ts";
import { formatSpan, now, printJson, renderFields, STATE_COLOURS } from "../render/format.ts";

export async function statusCommand(opts: GlobalOptions): Promise<void> {
  const ctx = contextFrom(opts);
  const s = await (await connect(ctx)).status();
  if (ctx.json) return printJson(s);
  console.log(renderFields(statusFields(s, ctx.color), ctx.color));
  if (s.version !== VERSION) {
    console.error(
      `note: the daemon runs version ${s.version} and this CLI is ${VERSION}; restart one of them`,
    );
  }
}

export function statusFields(s: Status, color: boolean): [string, string][] {
  const count = (state: (typeof RUNNER_STATES)[number]) => {
    const n = s.runners[state] ?? 0;
    return paint(`${n} ${state}`, n ? STATE_COLOURS[state] : undefined, color);
  };
  const active = RUNNER_STATES.slice(0, 3).map(count).join(", ");
  const ended = RUNNER_STATES.slice(3).map(count).join(", ");
  return [
    ["daemon", `${paint("running", "green", color)}, version ${s.version}`],
    ["uptime", `${formatSpan(s.uptimeSeconds * 1000)} (since ${s.startedAt})`],
    ["address", s.url],
    ["home", s.home],
    [
      "database",
      `${s.database.kind === "embedded" ? "embedded PGlite" : "PostgreSQL"}, ${s.database.location}`,
    ],
    ["broker", `${s.broker.kind === "embedded" ? "embedded" : "RabbitMQ"}, ${s.broker.location}`],
    ["projects", String(s.projects)],
    ["runners", `${active}; ${ended}`],
    ...limitLines(s, color),
  ];
}

const WINDOW_TEXT: Record<string, string> = { five_hour: "5-hour", seven_day: "weekly" };

/** One line per account: each window's percent and time to reset, red while it refuses requests. */
function limitLines(s: Status, color: boolean): [string, string][] {
  const by = new Map<string, NonNullable<Status["limits"]>>();
  for (const l of s.limits ?? []) by.set(l.label, [...(by.get(l.label) ?? []), l]);
  const at = now();
  return [...by].map(([label, ws]) => [
    "limits",
    ws.map((w) => {
      const left = w.resetsAt ? Date.parse(w.resetsAt) - at : NaN;
      const text = `${WINDOW_TEXT[w.window] ?? w.window} ${w.percent}%${
        Number.isFinite(left) && left > 0 ? ` (resets in ${formatSpan(left)})` : ""
      }`;
      return w.limited ? paint(`${text} limited`, "red", color) : text;
    }).join(", ") + ` · ${label}`,
  ]);
}
