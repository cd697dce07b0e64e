/**
 * ReDoS in the event filter: `types=****************z` became a backtracking regex and one stream stalled the
 * daemon (an unauthenticated /healthz took 14 s). Globs are matched linearly and capped.
 */
import { assert, assertEquals, eventually } from "../helpers/assert.ts";
import { eachDaemon } from "../helpers/daemon.ts";
import { GLOB_LIMITS, globListMatcher, globListProblem, globMatch } from "../../lib/glob.ts";
import { loadConfig } from "../../lib/config.ts";
import { assertThrows } from "../helpers/assert.ts";

Deno.test("glob: matches like the regex did", () => {
  const cases: [string, string, boolean][] = [
    ["runner.*", "runner.failed", true],
    ["runner.*", "runner.", true],
    ["runner.*", "budget.warning", false],
    ["*", "", true],
    ["", "", true],
    ["", "a", false],
    ["*.warning", "budget.warning", true],
    ["b*t.w*g", "budget.warning", true],
    ["b*t.w*x", "budget.warning", false],
    ["runner.failed", "runner.failed", true],
    ["runner.faile", "runner.failed", false],
    ["a*a*a", "aaaa", true],
    ["a*a*a", "aa", false],
  ];
  for (const [p, t, want] of cases) assertEquals(globMatch(p, t), want, `${p} ~ ${t}`);
  assert(globListMatcher("runner.*,budget.warning")("budget.warning"));
  assert(!globListMatcher("runner.*,budget.warning")("budget.exceeded"));
  assert(globListMatcher("")("anything"));
});

Deno.test("glob: the worst pattern allowed against a long type takes well under a millisecond", () => {
  const worst = "*".repeat(GLOB_LIMITS.stars) + "z";
  const text = "a".repeat(200);
  // The regex the old filter built from a shorter pattern would take minutes here.
  const t0 = performance.now();
  for (let i = 0; i < 1000; i++) assert(!globMatch(worst, text));
  const perMatch = (performance.now() - t0) / 1000;
  assert(perMatch < 1, `one match took ${perMatch} ms`);
  assert(!globMatch("****************z", text));
});

Deno.test("glob: patterns and stars are capped (API filter and STRATAVORE_NOTIFY_EVENTS)", () => {
  assertEquals(globListProblem("runner.*,budget.*"), undefined);
  assert(globListProblem("*".repeat(GLOB_LIMITS.stars + 1) + "z"));
  assert(globListProblem("a".repeat(GLOB_LIMITS.length + 1)));
  assert(globListProblem(Array(GLOB_LIMITS.patterns + 1).fill("a").join(",")));
  assert(globListProblem("Runner.*"));
  assertThrows(() =>
    loadConfig({
      env: { HOME: "/h", STRATAVORE_NOTIFY_EVENTS: "****************z" },
      readFile: () => undefined,
      os: "linux",
    })
  );
});

eachDaemon(
  "events: a star-heavy filter is refused and the worst allowed one does not stall the daemon",
  async ({
    daemon,
    client,
  }) => {
    const headers = { authorization: `Bearer ${daemon.token}` };
    const refused = await fetch(`${daemon.url}/api/v1/events?types=****************z`, { headers });
    assertEquals(refused.status, 400);
    assertEquals((await refused.json()).error.code, "bad_request");
    const recent = await fetch(`${daemon.url}/api/v1/events/recent?types=****************z`, { headers });
    assertEquals(recent.status, 400);
    await recent.body?.cancel();

    // The worst allowed filter on a live stream while events flow: /healthz stays quick.
    const worst = "*".repeat(GLOB_LIMITS.stars) + "z";
    const stop = new AbortController();
    const stream = await fetch(`${daemon.url}/api/v1/events?types=${worst}`, {
      headers,
      signal: stop.signal,
    });
    assertEquals(stream.status, 200);
    for (let i = 0; i < 5; i++) await client.createProject({ name: `p${i}`, path: "/tmp" });
    await eventually(async () => (await client.recentEvents({ types: "project.*" })).length >= 5, 10_000);
    const t0 = performance.now();
    const health = await fetch(`${daemon.url}/healthz`);
    await health.body?.cancel();
    const ms = performance.now() - t0;
    assert(ms < 2000, `/healthz took ${ms} ms`);
    stop.abort();
    await stream.body?.cancel().catch(() => {});
  },
  { inProcess: true },
);
