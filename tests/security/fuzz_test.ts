/**
 * A seeded fuzz of every route: malformed and edge-value requests (NUL, lone surrogates, 2^31 and 2^53
 * numbers, impossible dates, wrong types, unknown fields, bad paths and queries). No answer may be a 5xx,
 * and the database must be as it was: every request here is invalid by construction.
 */
import postgres from "postgres";
import { assert, assertEquals } from "../helpers/assert.ts";
import { eachDaemon } from "../helpers/daemon.ts";
import { HeartbeatSigner } from "../../lib/signature.ts";
import { rng } from "../helpers/rng.ts";

const REQUESTS = Number(Deno.env.get("FUZZ_REQUESTS") ?? 1200);
const SEED = Number(Deno.env.get("FUZZ_SEED") ?? 15);

const EDGE_NUMBERS = [
  -1,
  0,
  1.5,
  2 ** 31 - 1,
  2 ** 31,
  2 ** 32,
  0xC0000005,
  2 ** 53 - 1,
  2 ** 53 + 2,
  -(2 ** 53),
  1e308,
  -1e308,
  5e-324,
];
const EDGE_STRINGS = [
  "",
  "\u0000",
  "a\u0000b",
  "\ud800",
  "x\udfffy",
  "2026-02-31",
  "2026-13-01",
  "0000-00-00",
  "9999-99-99T99:99:99Z",
  "../../etc/passwd",
  "%00",
  "'; DROP TABLE projects; --",
  "*".repeat(40) + "z",
  "ä".repeat(300),
  "x".repeat(70_000),
  "NaN",
  "Infinity",
  "true",
  "null",
  "{}",
];
const EDGE_PATH = [
  "0",
  "-1",
  "2147483648",
  "9007199254740993",
  "99999999999999999999",
  "1e3",
  "abc",
  "%00",
  "%ED%A0%80",
  "%C0%AF",
  "NOPE!",
  "a".repeat(300),
  "..%2F..",
  "%25",
];
const FIELDS = [
  "name",
  "path",
  "command",
  "args",
  "project",
  "pid",
  "host",
  "exitCode",
  "signal",
  "tokens",
  "usage",
  "reported",
  "sessionId",
  "session_id",
  "hook_event_name",
  "decision",
  "maxRunners",
  "labels",
  "prompt",
  "since",
  "tokens",
  "costUsd",
  "period",
  "policy",
  "code",
  "cpuPercent",
  "rssBytes",
  "resourceMetrics",
];

type Auth = "admin" | "runner" | "none";
interface Route {
  method: string;
  /** `:p` is replaced by an edge path value; `:runner` by the real runner's id. */
  path: string;
  auth: Auth;
  signed?: boolean;
  /** Reads a JSON body (mutating routes without one are only fuzzed with edge path values). */
  body?: boolean;
}

const ROUTES: Route[] = [
  { method: "GET", path: "/healthz", auth: "none" },
  { method: "GET", path: "/readyz", auth: "none" },
  { method: "GET", path: "/api/v1/status", auth: "admin" },
  { method: "GET", path: "/api/v1/projects", auth: "admin" },
  { method: "POST", path: "/api/v1/projects", auth: "admin", body: true },
  { method: "GET", path: "/api/v1/projects/:p", auth: "admin" },
  { method: "PATCH", path: "/api/v1/projects/:p", auth: "admin", body: true },
  { method: "PATCH", path: "/api/v1/projects/base", auth: "admin", body: true },
  { method: "DELETE", path: "/api/v1/projects/:p", auth: "admin" },
  { method: "GET", path: "/api/v1/runners", auth: "admin" },
  { method: "POST", path: "/api/v1/runners", auth: "admin", body: true },
  { method: "GET", path: "/api/v1/runners/:p", auth: "admin" },
  { method: "POST", path: "/api/v1/runners/:p/stop", auth: "admin", body: true },
  { method: "POST", path: "/api/v1/runners/:runner/stop", auth: "admin", body: true },
  { method: "POST", path: "/api/v1/runners/:runner/kill", auth: "admin", body: true },
  { method: "POST", path: "/api/v1/runners/:runner/permission", auth: "admin", body: true },
  { method: "GET", path: "/api/v1/runners/:p/permissions", auth: "admin" },
  { method: "GET", path: "/api/v1/runners/:p/logs", auth: "admin" },
  { method: "GET", path: "/api/v1/runners/:p/diff", auth: "admin" },
  { method: "POST", path: "/api/v1/runners/:runner/started", auth: "runner", body: true },
  { method: "POST", path: "/api/v1/runners/:runner/heartbeat", auth: "runner", body: true, signed: true },
  { method: "POST", path: "/api/v1/runners/:runner/exited", auth: "runner", body: true },
  { method: "POST", path: "/api/v1/runners/:runner/claude-hook", auth: "runner", body: true },
  { method: "POST", path: "/api/v1/runners/:runner/limits", auth: "runner", body: true },
  { method: "POST", path: "/api/v1/runners/:p/heartbeat", auth: "runner", body: true, signed: true },
  { method: "PUT", path: "/api/v1/runners/:runner/transcript", auth: "runner", body: true },
  { method: "POST", path: "/api/v1/otlp/v1/metrics", auth: "runner", body: true },
  { method: "POST", path: "/api/v1/otlp/v1/logs", auth: "runner", body: true },
  { method: "GET", path: "/api/v1/events/recent", auth: "admin" },
  { method: "GET", path: "/api/v1/events/dead", auth: "admin" },
  { method: "POST", path: "/api/v1/events/dead/:p/retry", auth: "admin" },
  { method: "GET", path: "/api/v1/budgets", auth: "admin" },
  { method: "PUT", path: "/api/v1/budgets/global", auth: "admin", body: true },
  { method: "PUT", path: "/api/v1/budgets/project/base", auth: "admin", body: true },
  { method: "PUT", path: "/api/v1/budgets/project/:p", auth: "admin", body: true },
  { method: "GET", path: "/api/v1/budgets/runner/:p", auth: "admin" },
  { method: "DELETE", path: "/api/v1/budgets/runner/:p", auth: "admin" },
  { method: "GET", path: "/api/v1/sessions", auth: "admin" },
  { method: "GET", path: "/api/v1/sessions/:p", auth: "admin" },
  { method: "GET", path: "/api/v1/sessions/:p/transcript", auth: "admin" },
  { method: "GET", path: "/api/v1/usage", auth: "admin" },
  { method: "GET", path: "/api/v1/limits", auth: "admin" },
  { method: "GET", path: "/api/v1/limits/history", auth: "admin" },
  { method: "GET", path: "/api/v1/worktrees", auth: "admin" },
  { method: "DELETE", path: "/api/v1/worktrees/:p", auth: "admin" },
  { method: "POST", path: "/api/v1/observed/claude-hook", auth: "runner", body: true },
  { method: "POST", path: "/api/v1/observed/limits", auth: "runner", body: true },
  { method: "GET", path: "/api/v1/metrics", auth: "admin" },
  { method: "POST", path: "/ui/exchange", auth: "none", body: true },
  { method: "GET", path: "/api/v1/nope/:p", auth: "admin" },
];

const QUERY_KEYS = [
  "since",
  "until",
  "project",
  "state",
  "limit",
  "types",
  "by",
  "all",
  "force",
  "session",
  "label",
];

function makeGen(random: () => number) {
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(random() * xs.length)];
  const value = (depth: number): unknown => {
    const r = random();
    if (r < 0.35) return pick(EDGE_NUMBERS);
    if (r < 0.7) return pick(EDGE_STRINGS);
    if (r < 0.78) return pick([true, false, null]);
    if (depth > 2) return pick(EDGE_STRINGS);
    if (r < 0.89) return Array.from({ length: Math.floor(random() * 4) }, () => value(depth + 1));
    return Object.fromEntries(
      Array.from({ length: 1 + Math.floor(random() * 3) }, () => [pick(FIELDS), value(depth + 1)]),
    );
  };
  /** A JSON body that no schema accepts: an unknown field, a NUL or lone surrogate, or the wrong shape. */
  const invalidBody = (): string => {
    const r = random();
    if (r < 0.1) return pick(["{", "[1,", '{"a":}', "nul", "\u0000", '"\\ud800"', "1e999999"]);
    if (r < 0.2) return JSON.stringify(pick([[], 42, "text", null, [value(1)]]));
    const fields = Object.fromEntries(
      Array.from({ length: 1 + Math.floor(random() * 4) }, () => [pick(FIELDS), value(0)]),
    );
    if (r < 0.6) return JSON.stringify({ ...fields, __fuzz: value(0) });
    // A NUL or lone surrogate in a value or key: refused before any schema (the text rule).
    const bad = pick(["\u0000", "\ud800", "a\udc00"]);
    return JSON.stringify({ ...fields, [random() < 0.5 ? pick(FIELDS) : `k${bad}`]: `v${bad}` });
  };
  const query = (): string => {
    if (random() < 0.4) return "";
    const n = 1 + Math.floor(random() * 3);
    const parts = Array.from({ length: n }, () => {
      const v = random() < 0.5
        ? pick(EDGE_PATH)
        : encodeURIComponent(String(pick([...EDGE_STRINGS, ...EDGE_NUMBERS])).toWellFormed().slice(0, 2000));
      return `${pick(QUERY_KEYS)}=${v}`;
    });
    return "?" + parts.join("&");
  };
  return { pick, invalidBody, query };
}

eachDaemon(
  "fuzz: malformed and edge-value requests to every route: no 5xx, database unchanged",
  async (t) => {
    const { daemon, client } = t;
    await client.createProject({ name: "base", path: "/tmp", maxRunners: 5 });
    const runner = await client.launch({ project: "base" });
    await client.withToken(runner.token).started(runner.runner.id, { pid: 4242, host: "h" });
    // The relay publishes the daemon's and these events shortly after: let it settle before the snapshot.
    await new Promise((r) => setTimeout(r, 2000));
    const snapshot = await databaseSnapshot(t.databaseUrl, client);

    const random = rng(SEED);
    const gen = makeGen(random);
    const signer = new HeartbeatSigner(runner.token);
    const counts = new Map<number, number>();
    const failures: string[] = [];
    for (let i = 0; i < REQUESTS; i++) {
      const route = gen.pick(ROUTES);
      const path = route.path.replace(":p", gen.pick(EDGE_PATH)).replace(":runner", String(runner.runner.id));
      const mutating = route.method !== "GET";
      // A mutating route without a body, or with a real id, is only called with a body no schema accepts.
      if (mutating && !route.body && !route.path.includes(":p")) continue;
      const body = route.body ? gen.invalidBody() : undefined;
      const headers: Record<string, string> = {};
      if (route.auth === "admin") headers.authorization = `Bearer ${daemon.token}`;
      if (route.auth === "runner") headers.authorization = `Bearer ${runner.token}`;
      if (body !== undefined) {
        headers["content-type"] = route.path.endsWith("/transcript")
          ? "application/gzip"
          : "application/json";
        if (route.signed) Object.assign(headers, signer.headers(body));
      }
      const url = daemon.url + path + (route.method === "GET" ? gen.query().replace(/follow=[^&]*/, "") : "");
      let status: number;
      try {
        const res = await fetch(url, {
          method: route.method,
          headers,
          body: body === undefined ? undefined : body,
          signal: AbortSignal.timeout(15_000),
        });
        status = res.status;
        await res.body?.cancel();
      } catch (e) {
        failures.push(`${route.method} ${url.slice(0, 200)}: ${(e as Error).message.slice(0, 300)}`);
        continue;
      }
      counts.set(status, (counts.get(status) ?? 0) + 1);
      if (status >= 500) {
        failures.push(
          `${status} ${route.method} ${url.slice(0, 200)} ${String(body).slice(0, 200)}`,
        );
      }
      // The OTLP receiver answers success to what it cannot use, as OTLP exporters expect (it books
      // nothing: the snapshot below says so).
      if (mutating && status < 400 && !route.path.includes("/otlp/")) {
        failures.push(
          `changed something: ${status} ${route.method} ${url} ${body}`,
        );
      }
    }
    const total = [...counts.values()].reduce((a, b) => a + b, 0);
    console.log(
      `fuzz seed ${SEED}: ${total} requests, statuses ${JSON.stringify(Object.fromEntries(counts))}`,
    );
    assertEquals(failures, [], failures.slice(0, 10).join("\n"));
    assert(total >= 1000, `only ${total} requests were sent`);
    assertEquals(await databaseSnapshot(t.databaseUrl, client), snapshot, "the database is unchanged");
    assert(!daemon.logs().some((l) => /"level":"error"/.test(l)), "no errors logged");
  },
  { inProcess: true, env: { STRATAVORE_HEARTBEAT_TTL: "1h", STRATAVORE_RECONCILE_INTERVAL: "1h" } },
);

/** Every table's rows (PostgreSQL), or what the API shows of them (PGlite, which one process holds). */
async function databaseSnapshot(
  databaseUrl: string | undefined,
  client: import("../../lib/client.ts").StratavoreClient,
): Promise<string> {
  const api = JSON.stringify({
    projects: await client.listProjects(),
    runners: (await client.listRunners({ all: true })).map((r) => ({ ...r, activityAt: null })),
    sessions: await client.listSessions(),
    budgets: await client.listBudgets(),
    events: (await client.recentEvents({ limit: 500 })).length,
  });
  if (!databaseUrl) return api;
  const sql = postgres(databaseUrl, { max: 1, onnotice: () => {} });
  try {
    const tables = [
      "projects",
      "runners",
      "agent_tokens",
      "sessions",
      "transcripts",
      "token_usage",
      "budgets",
      "budget_usage",
      "outbox",
      "audit_log",
      "runner_usage",
      "reported_series",
      "api_calls",
      "permission_requests",
      "observer_tokens",
      "limit_windows",
      "limit_samples",
      "limit_queue",
    ];
    const out: Record<string, string> = {};
    for (const table of tables) {
      const [row] = await sql.unsafe(
        `SELECT count(*)::text AS n, md5(coalesce(string_agg(t::text, '|' ORDER BY t::text), '')) AS digest FROM ${table} t`,
      );
      out[table] = `${row.n}:${row.digest}`;
    }
    return api + JSON.stringify(out);
  } finally {
    await sql.end();
  }
}
