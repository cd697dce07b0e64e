/**
 * OTLP/HTTP JSON (OpenTelemetry's wire format, as Claude Code's exporters send it) flattened into points and
 * log records with plain attribute maps. Only what the receiver needs is read; anything malformed is
 * skipped and counted, never thrown, so one bad point cannot lose a whole export.
 */

export type AttrValue = string | number | boolean | null;
export type Attrs = Record<string, AttrValue>;

export interface MetricPoint {
  metric: string;
  /** Resource attributes merged under the point's own (the point wins). */
  attrs: Attrs;
  /** startTimeUnixNano as a decimal string (nanoseconds do not fit a double exactly). */
  start: string;
  time: string;
  value: number;
  /** 1 delta, 2 cumulative (OTLP's AggregationTemporality); 0 when not given. */
  temporality: number;
  monotonic: boolean;
}

export interface LogEvent {
  /** The body, e.g. `claude_code.api_request`. */
  name: string;
  attrs: Attrs;
  time: string;
}

export interface Parsed<T> {
  items: T[];
  /** Points or records that were malformed and skipped. */
  rejected: number;
}

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === "object" && v !== null && !Array.isArray(v);
const arr = (v: unknown): unknown[] => Array.isArray(v) ? v : [];

/** An OTLP AnyValue as a scalar; arrays and key-value lists become their JSON text. */
export function anyValue(v: unknown): AttrValue {
  if (!isObj(v)) return null;
  if (typeof v.stringValue === "string") return v.stringValue;
  if (typeof v.boolValue === "boolean") return v.boolValue;
  if (typeof v.doubleValue === "number") return v.doubleValue;
  // int64 travels as a decimal string in OTLP/JSON (or a number from lenient encoders).
  if (typeof v.intValue === "string" && /^-?\d{1,20}$/.test(v.intValue)) return Number(v.intValue);
  if (typeof v.intValue === "number") return v.intValue;
  if (isObj(v.arrayValue)) return JSON.stringify(arr(v.arrayValue.values).map(anyValue));
  if (isObj(v.kvlistValue)) return JSON.stringify(attributes(v.kvlistValue.values));
  return null;
}

export function attributes(list: unknown, into: Attrs = {}): Attrs {
  for (const kv of arr(list)) {
    if (isObj(kv) && typeof kv.key === "string" && kv.key.length <= 256) into[kv.key] = anyValue(kv.value);
  }
  return into;
}

function nanos(v: unknown): string | undefined {
  if (typeof v === "string" && /^\d{1,20}$/.test(v)) return v;
  if (typeof v === "number" && Number.isFinite(v) && v >= 0) return BigInt(Math.trunc(v)).toString();
  return undefined;
}

function pointValue(p: Obj): number | undefined {
  if (typeof p.asDouble === "number" && Number.isFinite(p.asDouble)) return p.asDouble;
  if (typeof p.asInt === "string" && /^-?\d{1,20}$/.test(p.asInt)) return Number(p.asInt);
  if (typeof p.asInt === "number" && Number.isFinite(p.asInt)) return p.asInt;
  return undefined;
}

/** The sum and gauge points of an ExportMetricsServiceRequest. Histograms and summaries are skipped. */
export function parseMetrics(body: unknown): Parsed<MetricPoint> {
  const items: MetricPoint[] = [];
  let rejected = 0;
  for (const rm of arr(isObj(body) ? body.resourceMetrics : undefined)) {
    if (!isObj(rm)) {
      rejected++;
      continue;
    }
    const resource = attributes(isObj(rm.resource) ? rm.resource.attributes : undefined);
    for (const sm of arr(rm.scopeMetrics)) {
      for (const m of arr(isObj(sm) ? sm.metrics : undefined)) {
        if (!isObj(m) || typeof m.name !== "string") {
          rejected++;
          continue;
        }
        const data = isObj(m.sum) ? m.sum : isObj(m.gauge) ? m.gauge : undefined;
        if (!data) continue;
        const temporality = typeof data.aggregationTemporality === "number" ? data.aggregationTemporality : 0;
        for (const p of arr(data.dataPoints)) {
          const value = isObj(p) ? pointValue(p) : undefined;
          const time = isObj(p) ? nanos(p.timeUnixNano) : undefined;
          if (!isObj(p) || value === undefined || time === undefined) {
            rejected++;
            continue;
          }
          items.push({
            metric: m.name,
            attrs: attributes(p.attributes, { ...resource }),
            start: nanos(p.startTimeUnixNano) ?? "0",
            time,
            value,
            temporality,
            monotonic: data.isMonotonic === true,
          });
        }
      }
    }
  }
  return { items, rejected };
}

/** The log records of an ExportLogsServiceRequest whose body is a string (event names). */
export function parseLogs(body: unknown): Parsed<LogEvent> {
  const items: LogEvent[] = [];
  let rejected = 0;
  for (const rl of arr(isObj(body) ? body.resourceLogs : undefined)) {
    if (!isObj(rl)) {
      rejected++;
      continue;
    }
    const resource = attributes(isObj(rl.resource) ? rl.resource.attributes : undefined);
    for (const sl of arr(rl.scopeLogs)) {
      for (const r of arr(isObj(sl) ? sl.logRecords : undefined)) {
        const name = isObj(r) ? anyValue(r.body) : null;
        if (!isObj(r) || typeof name !== "string") {
          rejected++;
          continue;
        }
        items.push({
          name,
          attrs: attributes(r.attributes, { ...resource }),
          time: nanos(r.timeUnixNano) ?? nanos(r.observedTimeUnixNano) ?? "0",
        });
      }
    }
  }
  return { items, rejected };
}

/** The answer an OTLP/HTTP exporter expects; rejected points are reported as a partial success. */
export function exportResponse(kind: "metrics" | "logs", rejected: number, message?: string): Obj {
  if (!rejected) return {};
  const field = kind === "metrics" ? "rejectedDataPoints" : "rejectedLogRecords";
  return {
    partialSuccess: { [field]: String(rejected), errorMessage: message ?? "malformed items skipped" },
  };
}
