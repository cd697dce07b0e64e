/** One line per event for people: time, type, project and what happened. */
import type { EventEnvelope } from "../../lib/schemas/event.ts";
import { isEnded } from "../../lib/runner_states.ts";
import { type Colour, paint } from "./ansi.ts";

type P = Record<string, unknown>;

function runnerText(p: P): string {
  const r = (p.runner ?? {}) as P;
  const bits = [`runner ${r.id ?? p.runnerId ?? "?"}`];
  if (r.state) bits.push(String(r.state));
  if (p.activity) bits.push(String(p.activity).replaceAll("_", " ") + (p.detail ? ` (${p.detail})` : ""));
  if (
    r.exitCode !== null && r.exitCode !== undefined &&
    isEnded(String(r.state))
  ) {
    bits.push(`exit ${r.exitCode}`);
  }
  if (r.reason && (r.state === "stopping" || isEnded(String(r.state)))) {
    bits.push(`— ${r.reason}`);
  } else if (p.reason) bits.push(`— ${p.reason}`);
  return bits.join(" ");
}

export function describeEvent(e: EventEnvelope): string {
  const p = e.payload as P;
  const [entity] = e.type.split(".");
  switch (entity) {
    case "runner":
      return runnerText(p);
    case "project":
      if (e.type === "project.quota_exceeded" || e.type === "project.budget_refused") {
        return String(p.message ?? "");
      }
      return `project ${e.entityId} ${e.type.split(".")[1]}`;
    case "daemon":
      return `daemon ${e.entityId} ${e.type.split(".")[1]}${p.version ? ` (v${p.version})` : ""}`;
    case "event":
      return `event ${p.eventId} (${p.eventType}) dead-lettered after ${p.attempts} attempts: ${p.error}`;
    default:
      return String(p.message ?? `${e.type} ${e.entityId}`);
  }
}

function colourFor(type: string): Colour | undefined {
  if (/failed|exceeded|dead_lettered|killed|refused/.test(type)) return "red";
  if (/warning|stopping|activity/.test(type)) return "yellow";
  if (/started|launched|created/.test(type)) return "green";
  return undefined;
}

export function eventLine(e: EventEnvelope, color: boolean): string {
  const time = e.occurredAt.slice(11, 19);
  const type = paint(e.type.padEnd(24), colourFor(e.type), color);
  return `${paint(time, "gray", color)}  ${type}  ${(e.project ?? "-").padEnd(14)}  ${describeEvent(e)}`;
}
