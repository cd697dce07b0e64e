/**
 * The shipped Prometheus rules and Grafana dashboard: promtool accepts and unit-tests the rules, every
 * dashboard query is valid PromQL, and every metric they (and docs/observability/README.md) name is one a
 * real daemon exports.
 */
import { assert, assertEquals, assertStringIncludes } from "../helpers/assert.ts";
import { startInProcessDaemon, withoutSubprocesses } from "../helpers/daemon.ts";
import { REPO } from "../helpers/env.ts";
import { readDaemonInfo } from "../../lib/daemon_info.ts";
import { families, promtool } from "./prom.ts";

const DIR = `${REPO}/docs/observability`;
const RULES = `${DIR}/alerts.yml`;
const DASHBOARD = `${DIR}/grafana-dashboard.json`;

interface Panel {
  id: number;
  type: string;
  title: string;
  targets?: { expr: string }[];
}

function dashboardExprs(): { title: string; expr: string }[] {
  const d = JSON.parse(Deno.readTextFileSync(DASHBOARD)) as { panels: Panel[] };
  const ids = d.panels.map((p) => p.id);
  assertEquals(new Set(ids).size, ids.length, "panel ids are unique");
  return d.panels.flatMap((p) => (p.targets ?? []).map((t) => ({ title: p.title, expr: t.expr })));
}

/** Metric names used in PromQL text (histogram series map to their family). */
function metricNames(text: string): string[] {
  const names = [...text.matchAll(/\b((?:stratavore|process|nodejs)_[a-z0-9_]+)\b/g)].map((m) =>
    m[1].replace(/_(bucket|count|sum)$/, "")
  );
  return [...new Set(names)];
}

Deno.test("observability: promtool accepts the alert rules and their unit tests pass", async () => {
  let r = await promtool(["check", "rules", RULES]);
  assertEquals(r.code, 0, r.out);
  assertStringIncludes(r.out, "SUCCESS: 11 rules found");
  r = await promtool(["test", "rules", `${DIR}/alerts_test.yml`]);
  assertEquals(r.code, 0, r.out);
  assertStringIncludes(r.out, "SUCCESS");
});

Deno.test("observability: every dashboard query is valid PromQL", async () => {
  const exprs = dashboardExprs();
  assert(exprs.length >= 20, `${exprs.length} queries`);
  // promtool has no PromQL check of its own: the queries become recording rules it parses.
  const rules = exprs.map((e, i) =>
    `      - record: dashboard:query_${i}\n        expr: ${
      JSON.stringify(e.expr.replaceAll("$job", "stratavore").replaceAll("$instance", ".*"))
    }\n`
  );
  const file = await Deno.makeTempFile({ suffix: ".yml" });
  try {
    await Deno.writeTextFile(file, `groups:\n  - name: dashboard\n    rules:\n${rules.join("")}`);
    const r = await promtool(["check", "rules", file]);
    assertEquals(r.code, 0, r.out);
  } finally {
    await Deno.remove(file);
  }
});

Deno.test({
  name: "observability: the rules, the dashboard and the metrics README name only exported metrics",
  sanitizeOps: false,
  sanitizeResources: false,
  fn: () =>
    withoutSubprocesses(async () => {
      const daemon = await startInProcessDaemon();
      try {
        const text = await (await fetch(readDaemonInfo(daemon.home)!.metricsUrl!)).text();
        const exported = families(text);
        const used = new Set([
          ...metricNames(Deno.readTextFileSync(RULES)),
          ...dashboardExprs().flatMap((e) => metricNames(e.expr)),
        ]);
        for (const name of used) assert(exported.has(name), `${name} is used but not exported`);
        const readme = Deno.readTextFileSync(`${DIR}/README.md`);
        const documented = new Set([...readme.matchAll(/`(stratavore_[a-z0-9_]+)`/g)].map((m) => m[1]));
        const ours = [...exported.keys()].filter((n) => n.startsWith("stratavore_"));
        for (const name of ours) assert(documented.has(name), `${name} is exported but not in the README`);
        for (const name of documented) {
          assert(
            exported.has(name.replace(/_(bucket|count|sum)$/, "")),
            `${name} is documented but not exported`,
          );
        }
      } finally {
        await daemon.stop();
      }
    }),
});
