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
  assertEquals(modelFamily("claude-mythos-5-1"), { family: "mythos", version: 501 });
  assertEquals(modelFamily("claude-sonnet-5-5"), { family: "sonnet", version: 505 });
  assertEquals(modelFamily("gpt-4o"), undefined);
});

Deno.test("claude pricing: the built-in table holds Claude Code's own prices", () => {
  // Columns as Claude Code reports them: input, output, cache read, cache write 5 min, 1 h (USD per million).
  const prices = (model: string) => {
    const p = priceFor(model)?.price;
    return p && [p.input, p.output, p.cacheRead, p.cacheWrite5m, p.cacheWrite1h];
  };
  assertEquals(prices("claude-opus-5-5"), [4, 20, 0.2, 5, 8]);
  assertEquals(prices("claude-opus-4-6"), [5, 25, 0.5, 6.25, 10]);
  assertEquals(prices("claude-opus-4-5-20251101"), [5, 25, 0.5, 6.25, 10]);
  assertEquals(
    prices("claude-opus-4-1-20250805"),
    [4, 20, 0.2, 5, 8],
    "Claude Code charges its default here",
  );
  assertEquals(prices("claude-sonnet-5-5"), [2, 10, 0.1, 2.5, 4]);
  assertEquals(prices("claude-sonnet-5"), [2, 10, 0.2, 2.5, 4]);
  assertEquals(prices("claude-sonnet-4-6"), [3, 15, 0.3, 3.75, 6]);
  assertEquals(prices("claude-3-7-sonnet-20250219"), [3, 15, 0.3, 3.75, 6]);
  assertEquals(prices("claude-haiku-5-5"), [0.1, 0.5, 0.01, 0.125, 0.2]);
  assertEquals(prices("claude-haiku-4-5-20251001"), [1, 5, 0.1, 1.25, 2]);
  assertEquals(prices("claude-3-5-haiku-20241022"), [0.8, 4, 0.08, 1, 1.6]);
  assertEquals(prices("claude-mythos-5-2"), [8, 40, 0.2, 10, 16]);
  assertEquals(prices("claude-mythos-preview"), [4, 20, 0.2, 5, 8]);
  assertEquals(prices("claude-opus-5-1"), undefined, "a version Claude Code does not name is unpriced");
  assertEquals(prices("<synthetic>"), undefined);
});

Deno.test("claude pricing: cost splits cache writes into 5-minute and 1-hour parts", () => {
  const totals = { input: M, output: M, cacheCreation: M, cacheCreation1h: 400_000, cacheRead: M };
  // Sonnet 4.5: 3 + 15 + 0.6×3.75 + 0.4×6 + 0.3 = 22.95
  const c = costOf(totals, "claude-sonnet-4-5-20250929");
  assert(c.priced && close(c.usd, 22.95), `got ${c.usd}`);
  assertEquals(c.match?.source, "builtin");
  // Opus 5.5 without a 1h part: 4 + 20 + 5 + 0.2 = 29.2
  const o = costOf({ input: M, output: M, cacheCreation: M, cacheRead: M }, "claude-opus-5-5");
  assert(close(o.usd, 29.2), `got ${o.usd}`);
  // The usage of one request as Claude Code reported it: 1000 in, 20 out, 300 read, 150 + 50 written → $0.00561
  const r = costOf(
    { input: 1000, output: 20, cacheCreation: 200, cacheCreation1h: 50, cacheRead: 300 },
    "claude-opus-5-5",
  );
  assert(close(r.usd, 0.00561), `got ${r.usd}`);
  // Haiku 3.5, small numbers: 1200×0.8 + 300×4 + 0 + 10000×0.08 = 2960 µ$
  const h = costOf(
    { input: 1200, output: 300, cacheCreation: 0, cacheRead: 10_000 },
    "claude-3-5-haiku-20241022",
  );
  assert(close(h.usd, 0.00296), `got ${h.usd}`);
});

Deno.test("claude pricing: unknown models are reported as unpriced", () => {
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
