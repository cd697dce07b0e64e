/**
 * Whose telemetry: a user who already exports Claude Code's telemetry keeps their exporter (the runner says
 * so, and its costs are estimated from transcripts); a settings file that only points OTEL_* elsewhere does
 * not take a Stratavore session's telemetry away from the daemon.
 */
import { assert, assertEquals, eventually } from "../helpers/assert.ts";
import { spawnAgent } from "../helpers/agent.ts";
import { eachRealDaemon } from "./harness.ts";
import { billed } from "./session.ts";

/** A collector of the user's own: counts the OTLP exports it receives. */
function userCollector() {
  const seen: string[] = [];
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen: () => {} }, async (req) => {
    seen.push(new URL(req.url).pathname);
    await req.body?.cancel();
    return Response.json({});
  });
  return { url: `http://127.0.0.1:${server.addr.port}`, seen, close: () => server.shutdown() };
}

const headless = (
  marker: string,
) => ["agent", "--", "claude", "-p", `${marker} go`, "--output-format", "stream-json", "--verbose"];

eachRealDaemon("the user's own telemetry exporter is left alone, and the runner says so", async (t) => {
  const collector = userCollector();
  try {
    const marker = `own-${crypto.randomUUID()}`;
    t.api.routes.set(marker, { text: "Done.", usage: { input: 3000, output: 100 } });
    const env = {
      ...t.env,
      CLAUDE_CODE_ENABLE_TELEMETRY: "1",
      OTEL_METRICS_EXPORTER: "otlp",
      OTEL_LOGS_EXPORTER: "otlp",
      OTEL_EXPORTER_OTLP_PROTOCOL: "http/json",
      OTEL_EXPORTER_OTLP_ENDPOINT: collector.url,
      OTEL_METRIC_EXPORT_INTERVAL: "500",
    };
    const run = await spawnAgent(headless(marker), { env, cwd: t.dir }).done;
    assertEquals(run.code, 0, run.stderr);
    await eventually(
      () => collector.seen.includes("/v1/metrics"),
      15_000,
      "the user's collector got metrics",
    );
    const [r] = await t.client.listRunners({ project: t.project, all: true });
    assertEquals([r.telemetry, r.telemetryEndpoint], ["user", collector.url]);
    const detail = await t.client.getRunner(r.id);
    assertEquals(detail.apiCalls?.requests, 0, "nothing reached the daemon's receiver");
    // The estimate uses the table read from Claude Code: it equals what Claude Code charged, but says so.
    assertEquals(detail.cost.source, "estimated");
    assert(Math.abs(detail.cost.usd - billed(t.api)) < 1e-6, `${detail.cost.usd} vs ${billed(t.api)}`);
  } finally {
    await collector.close();
  }
});

eachRealDaemon(
  "a settings file pointing OTEL_* elsewhere does not take the session's telemetry away",
  async (t) => {
    await Deno.writeTextFile(
      `${t.claudeDir}/settings.json`,
      JSON.stringify({
        env: {
          OTEL_EXPORTER_OTLP_ENDPOINT: "http://127.0.0.1:9/nowhere",
          OTEL_METRIC_EXPORT_INTERVAL: "60000",
        },
      }),
    );
    const marker = `settings-${crypto.randomUUID()}`;
    t.api.routes.set(marker, { text: "Done.", usage: { input: 2500, output: 75 } });
    // Interactive mode without a terminal would wait for input: a prompt with -p, but not headless (no --log).
    const run = await spawnAgent(headless(marker), { env: t.env, cwd: t.dir }).done;
    assertEquals(run.code, 0, run.stderr);
    const [r] = await t.client.listRunners({ project: t.project, all: true });
    assertEquals(r.telemetry, "stratavore");
    const expected = billed(t.api);
    const done = await eventually(
      async () => {
        const d = await t.client.getRunner(r.id);
        return Math.abs(d.cost.usd - expected) < 1e-6 && d.cost.source === "claude-code" ? d : undefined;
      },
      15_000,
      "Claude Code's own cost, through the daemon's receiver",
    );
    assert(done.apiCalls!.requests >= 1, "its API requests reached the daemon");
  },
);
