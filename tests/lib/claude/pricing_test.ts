import { assert, assertEquals } from "../../helpers/assert.ts";
import {
  costOf,
  modelFamily,
  priceFor,
  priceOverridesSchema,
  priceSchema,
} from "../../../lib/claude/pricing.ts";

const M = 1_000_000;
const close = (a: number, b: number) => Math.abs(a - b) < 1e-9;

Deno.test("claude pricing: family and version are read from every spelling of a model id", () => {
  assertEquals(modelFamily("claude-sonnet-4-5-20250929"), { family: "sonnet", version: 405 });
  assertEquals(modelFamily("claude-opus-4-20250514"), { family: "opus", version: 400 });
  assertEquals(modelFamily("claude-opus-4-1-20250805"), { family: "opus", version: 401 });
  assertEquals(modelFamily("claude-3-7-sonnet-20250219"), { family: "sonnet", version: 307 });
  assertEquals(modelFamily("claude-3-5-haiku-20241022"), { family: "haiku", version: 305 });
  assertEquals(modelFamily("us.anthropic.claude-haiku-4-5-20251001-v1:0"), { family: "haiku", version: 405 });
  assertEquals(modelFamily("claude-opus-4-5@20251101"), { family: "opus", version: 405 });
  assertEquals(modelFamily("claude-opus-4-6"), { family: "opus", version: 406 });
  assertEquals(modelFamily("gpt-4o"), undefined);
});

Deno.test("claude pricing: the built-in table", () => {
  const prices = (model: string) => {
    const p = priceFor(model)?.price;
    return p && [p.input, p.output, p.cacheWrite5m, p.cacheWrite1h, p.cacheRead];
  };
  assertEquals(prices("claude-opus-4-20250514"), [15, 75, 18.75, 30, 1.5]);
  assertEquals(prices("claude-opus-4-1-20250805"), [15, 75, 18.75, 30, 1.5]);
  assertEquals(prices("claude-opus-4-5-20251101"), [5, 25, 6.25, 10, 0.5]);
  assertEquals(prices("claude-opus-4-6"), [5, 25, 6.25, 10, 0.5], "Opus 4.5 and later");
  assertEquals(prices("claude-3-7-sonnet-20250219"), [3, 15, 3.75, 6, 0.3]);
  assertEquals(prices("claude-sonnet-4-20250514"), [3, 15, 3.75, 6, 0.3]);
  assertEquals(prices("claude-sonnet-4-5-20250929"), [3, 15, 3.75, 6, 0.3]);
  assertEquals(prices("claude-haiku-4-5-20251001"), [1, 5, 1.25, 2, 0.1]);
  assertEquals(prices("claude-3-5-haiku-20241022"), [0.8, 4, 1, 1.6, 0.08]);
  assertEquals(prices("claude-3-haiku-20240307"), undefined, "not in the table");
  assertEquals(prices("<synthetic>"), undefined);
});

Deno.test("claude pricing: cost splits cache writes into 5-minute and 1-hour parts", () => {
  const totals = { input: M, output: M, cacheCreation: M, cacheCreation1h: 400_000, cacheRead: M };
  // Sonnet 4.5: 3 + 15 + 0.6×3.75 + 0.4×6 + 0.3 = 22.95
  const c = costOf(totals, "claude-sonnet-4-5-20250929");
  assert(c.priced && close(c.usd, 22.95), `got ${c.usd}`);
  assertEquals(c.match?.source, "builtin");
  // Opus 4.1 without a 1h part: 15 + 75 + 18.75 + 1.5 = 110.25
  const o = costOf({ input: M, output: M, cacheCreation: M, cacheRead: M }, "claude-opus-4-1-20250805");
  assert(close(o.usd, 110.25), `got ${o.usd}`);
  // Haiku 3.5, small numbers: 1200×0.8 + 300×4 + 0 + 10000×0.08 = 2960 µ$
  const h = costOf(
    { input: 1200, output: 300, cacheCreation: 0, cacheRead: 10_000 },
    "claude-3-5-haiku-20241022",
  );
  assert(close(h.usd, 0.00296), `got ${h.usd}`);
});

Deno.test("claude pricing: unknown models cost 0 and are reported as unpriced", () => {
  const c = costOf({ input: M, output: M, cacheCreation: 0, cacheRead: 0 }, "some-local-model");
  assertEquals(c, { usd: 0, priced: false });
});

Deno.test("claude pricing: overrides win, the longest prefix first", () => {
  const cheap = { input: 1, output: 1, cacheWrite5m: 1, cacheWrite1h: 1, cacheRead: 1 };
  const cheaper = { input: 0.5, output: 0.5, cacheWrite5m: 0.5, cacheWrite1h: 0.5, cacheRead: 0.5 };
  const overrides = { "claude-sonnet": cheap, "claude-sonnet-4-5": cheaper, "local-": cheap };
  const t = { input: M, output: M, cacheCreation: 0, cacheRead: 0 };
  const s45 = costOf(t, "claude-sonnet-4-5-20250929", overrides);
  assertEquals([s45.usd, s45.match?.source, s45.match?.matched], [1, "override", "claude-sonnet-4-5"]);
  assertEquals(costOf(t, "claude-sonnet-4-20250514", overrides).usd, 2);
  assertEquals(costOf(t, "local-llama", overrides), {
    usd: 2,
    priced: true,
    match: { price: cheap, source: "override", matched: "local-" },
  });
  assertEquals(costOf(t, "claude-haiku-4-5", overrides).usd, 6, "no override: the built-in price");
});

Deno.test("claude pricing: the price schema is strict and non-negative", () => {
  const ok = { input: 3, output: 15, cacheWrite5m: 3.75, cacheWrite1h: 6, cacheRead: 0.3 };
  assert(priceSchema.safeParse(ok).success);
  assert(!priceSchema.safeParse({ ...ok, input: -1 }).success);
  assert(!priceSchema.safeParse({ ...ok, extra: 1 }).success);
  assert(!priceSchema.safeParse({ input: 3 }).success);
  assert(priceOverridesSchema.safeParse({ "claude-opus": ok }).success);
  assert(!priceOverridesSchema.safeParse({ "": ok }).success);
});
