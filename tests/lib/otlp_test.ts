/** OTLP/JSON as Claude Code 2.1.328 exports it (fixtures captured from the real client), and malformed input. */
import { assert, assertEquals } from "../helpers/assert.ts";
import { anyValue, exportResponse, parseLogs, parseMetrics } from "../../lib/otlp.ts";
import { RUNNER_ATTR, telemetryEnv, userTelemetry } from "../../lib/claude/telemetry.ts";
import { apiCalls, reportedPoints } from "../../lib/claude/telemetry_usage.ts";

const fixture = async (name: string) =>
  JSON.parse(await Deno.readTextFile(new URL(`../fixtures/otlp/${name}`, import.meta.url)));

Deno.test("otlp: Claude Code's metrics export flattens to points with resource attributes", async () => {
  const { items, rejected } = parseMetrics(await fixture("metrics.json"));
  assertEquals(rejected, 0);
  const names = [...new Set(items.map((p) => p.metric))].sort();
  assertEquals(names, [
    "claude_code.active_time.total",
    "claude_code.cost.usage",
    "claude_code.session.count",
    "claude_code.token.usage",
  ]);
  const cost = items.find((p) => p.metric === "claude_code.cost.usage")!;
  assertEquals([cost.value, cost.temporality, cost.monotonic], [0.00561, 2, true]);
  assertEquals(cost.attrs[RUNNER_ATTR], "42", "resource attributes reach every point");
  assertEquals(cost.attrs["service.name"], "claude-code");
  assert(/^\d{19}$/.test(cost.start), "nanosecond times stay exact strings");
});

Deno.test("otlp: cost and token counters per session and model; only cumulative points are taken", async () => {
  const { items } = parseMetrics(await fixture("metrics.json"));
  const { points, skipped } = reportedPoints(items);
  assertEquals(skipped, 0);
  const by = Object.fromEntries(points.map((p) => [p.kind, p.value]));
  assertEquals(by, { cost: 0.00561, input: 2000, output: 40, cacheRead: 600, cacheCreation: 400 });
  assertEquals(new Set(points.map((p) => p.model)), new Set(["claude-sonnet-5-5"]));
  assertEquals(new Set(points.map((p) => p.series)).size, 5, "each counter is its own series");
  const delta = items.map((p) => ({ ...p, temporality: 1 }));
  assertEquals(reportedPoints(delta).points.length, 0, "delta points cannot be booked exactly once");
  assertEquals(reportedPoints(delta).skipped, 5);
});

Deno.test("otlp: api_request events become API calls with exact micro-dollar costs", async () => {
  const { items, rejected } = parseLogs(await fixture("logs.json"));
  assertEquals(rejected, 0);
  const calls = apiCalls(items);
  assertEquals(calls.length, 2);
  const c = calls[0];
  assertEquals(
    [c.kind, c.model, c.costUsd, c.input, c.output, c.cacheRead, c.cacheCreation],
    ["request", "claude-sonnet-5-5", 0.002805, 1000, 20, 300, 200],
  );
  assert(c.requestId?.startsWith("req_"), "the request id is kept");
  assert(calls[1].sequence > c.sequence, "events keep Claude Code's sequence");
});

Deno.test("otlp: malformed exports are skipped item by item, never thrown", () => {
  for (const body of [null, 42, "x", [], { resourceMetrics: "no" }, { resourceMetrics: [null, 1, "a"] }]) {
    parseMetrics(body);
    parseLogs(body);
  }
  const bad = {
    resourceMetrics: [{
      scopeMetrics: [{
        metrics: [
          {
            name: "claude_code.cost.usage",
            sum: { aggregationTemporality: 2, dataPoints: [{ asDouble: "x" }] },
          },
          { name: 5 },
          {
            name: "claude_code.cost.usage",
            sum: {
              aggregationTemporality: 2,
              dataPoints: [{ asDouble: 1.5, timeUnixNano: "1", attributes: [{ key: "session.id" }] }],
            },
          },
        ],
      }],
    }],
  };
  const parsed = parseMetrics(bad);
  assertEquals([parsed.items.length, parsed.rejected], [1, 2]);
  assertEquals(reportedPoints(parsed.items).skipped, 1, "a cost point without a session is not booked");
  assertEquals(anyValue({ intValue: "12345678901234" }), 12345678901234);
  assertEquals(
    anyValue({ kvlistValue: { values: [{ key: "a", value: { boolValue: true } }] } }),
    '{"a":true}',
  );
  assertEquals(exportResponse("metrics", 0), {});
  assertEquals(exportResponse("logs", 3, "why"), {
    partialSuccess: { rejectedLogRecords: "3", errorMessage: "why" },
  });
});

Deno.test("telemetry: the session environment points Claude Code at the daemon, keeping the user's attributes", () => {
  const env = telemetryEnv({
    url: "http://127.0.0.1:7890/",
    runnerId: 7,
    token: "svr_x",
    intervalMs: 1000,
    resourceAttributes: "team=core",
  });
  assertEquals(env.OTEL_EXPORTER_OTLP_ENDPOINT, "http://127.0.0.1:7890/api/v1/otlp");
  assertEquals(env.OTEL_EXPORTER_OTLP_HEADERS, "Authorization=Bearer svr_x");
  assertEquals(env.OTEL_RESOURCE_ATTRIBUTES, "stratavore.runner.id=7,team=core");
  assertEquals(env.OTEL_EXPORTER_OTLP_METRICS_TEMPORALITY_PREFERENCE, "cumulative");
  assertEquals([env.OTEL_METRIC_EXPORT_INTERVAL, env.OTEL_EXPORTER_OTLP_PROTOCOL], ["1000", "http/json"]);
});

Deno.test("telemetry: the user's own exporter is found in the environment or a settings file's env", () => {
  assertEquals(userTelemetry({}), undefined);
  assertEquals(userTelemetry({ OTEL_METRICS_EXPORTER: "otlp" }), undefined, "not enabled");
  assertEquals(
    userTelemetry({ CLAUDE_CODE_ENABLE_TELEMETRY: "1", OTEL_METRICS_EXPORTER: "none" }),
    undefined,
  );
  assertEquals(
    userTelemetry({ CLAUDE_CODE_ENABLE_TELEMETRY: "1", OTEL_METRICS_EXPORTER: "otlp" }, [
      { OTEL_EXPORTER_OTLP_ENDPOINT: "https://otel.example:4318" },
    ]),
    { endpoint: "https://otel.example:4318" },
  );
  assertEquals(
    userTelemetry({}, [{ CLAUDE_CODE_ENABLE_TELEMETRY: "true", OTEL_LOGS_EXPORTER: "console" }]),
    { endpoint: "console" },
  );
});
