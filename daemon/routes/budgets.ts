/** /api/v1/budgets: list, and GET/PUT/DELETE one budget at /global, /project/:name or /runner/:id. */
import { projectName, runnerIdText } from "../../lib/schemas/common.ts";
import { budgetPut, type BudgetScope } from "../../lib/schemas/budget.ts";
import { readBody, readParam } from "../http/body.ts";
import { type Route, Routes } from "../http/route.ts";
import type { Services } from "../services.ts";
import {
  deleteBudget,
  findBudget,
  listBudgets,
  notFoundBudget,
  putBudget,
  toBudget,
} from "../store/budgets.ts";

export function budgetRoutes(s: Services, clock: () => number = Date.now): Route[] {
  const app = new Routes("/budgets");
  app.get("/", { auth: "admin" }, async (c) => c.json({ budgets: await listBudgets(s.db, clock()) }));

  const scopes: {
    path: string;
    scope: BudgetScope;
    ref: (p: (k: string) => string | undefined) => string;
  }[] = [
    { path: "/global", scope: "global", ref: () => "" },
    { path: "/project/:ref", scope: "project", ref: (p) => readParam("project name", p("ref"), projectName) },
    {
      path: "/runner/:ref",
      scope: "runner",
      ref: (p) => String(readParam("runner id", p("ref"), runnerIdText)),
    },
  ];
  for (const { path, scope, ref } of scopes) {
    app.get(path, { auth: "admin" }, async (c) => {
      const r = ref((k) => c.req.param(k));
      const row = await findBudget(s.db, scope, r);
      if (!row) throw notFoundBudget(scope, r);
      return c.json(await toBudget(s.db, row, clock()));
    });
    app.put(path, { auth: "admin-only" }, async (c) => {
      const r = ref((k) => c.req.param(k));
      const body = await readBody(c, budgetPut);
      const budget = await s.db.transaction((tx) =>
        putBudget(tx, scope, r, body, { timezone: s.config.budgetTimezone, now: clock() })
      );
      return c.json(budget);
    });
    app.delete(path, { auth: "admin-only" }, async (c) => {
      const r = ref((k) => c.req.param(k));
      await s.db.transaction((tx) => deleteBudget(tx, scope, r));
      return c.json({ deleted: scope === "global" ? "global" : `${scope}/${r}` });
    });
  }
  return app.list;
}
