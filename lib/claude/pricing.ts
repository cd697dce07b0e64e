/**
 * Anthropic list prices in USD per million tokens, matched by model family and version parsed from the
 * model id (first-party `claude-sonnet-4-5-20250929`, legacy `claude-3-7-sonnet-…`, Bedrock
 * `us.anthropic.claude-…-v1:0`, Vertex `claude-…@2025…`). Overrides from configuration win.
 */
import { z } from "zod";
import type { TokenCounts } from "./transcript.ts";

const perMillion = z.number().finite().nonnegative();

/** One price entry; config reuses it for `model-prefix → prices` overrides. */
export const priceSchema = z.strictObject({
  input: perMillion,
  output: perMillion,
  cacheWrite5m: perMillion,
  cacheWrite1h: perMillion,
  cacheRead: perMillion,
});

export type Price = z.infer<typeof priceSchema>;

/** `model-prefix → prices`; the longest matching prefix wins over the built-in table. */
export type PriceOverrides = Record<string, Price>;

export const priceOverridesSchema = z.record(z.string().min(1), priceSchema);

const price = (
  input: number,
  output: number,
  cacheWrite5m: number,
  cacheWrite1h: number,
  cacheRead: number,
) => ({ input, output, cacheWrite5m, cacheWrite1h, cacheRead }) satisfies Price;

type Family = "opus" | "sonnet" | "haiku";

interface Rule {
  family: Family;
  /** Inclusive version range as major*100 + minor (4.1 → 401). */
  from: number;
  to: number;
  name: string;
  price: Price;
}

// Cache writes are 1.25× input (5 minutes) and 2× input (1 hour); cache reads 0.1× input.
const RULES: Rule[] = [
  { family: "opus", from: 400, to: 401, name: "Opus 4/4.1", price: price(15, 75, 18.75, 30, 1.5) },
  { family: "opus", from: 405, to: Infinity, name: "Opus 4.5+", price: price(5, 25, 6.25, 10, 0.5) },
  { family: "sonnet", from: 307, to: 307, name: "Sonnet 3.7", price: price(3, 15, 3.75, 6, 0.3) },
  { family: "sonnet", from: 400, to: 400, name: "Sonnet 4", price: price(3, 15, 3.75, 6, 0.3) },
  { family: "sonnet", from: 405, to: 405, name: "Sonnet 4.5", price: price(3, 15, 3.75, 6, 0.3) },
  { family: "haiku", from: 405, to: 405, name: "Haiku 4.5", price: price(1, 5, 1.25, 2, 0.1) },
  { family: "haiku", from: 305, to: 305, name: "Haiku 3.5", price: price(0.8, 4, 1, 1.6, 0.08) },
];

/**
 * Family and version from a model id. Versions are one or two digits not followed by more digits, so the
 * 8-digit date in `claude-opus-4-20250514` or `claude-3-5-haiku-20241022` is never read as a version.
 */
export function modelFamily(model: string): { family: Family; version: number } | undefined {
  const id = model.toLowerCase();
  const modern = /(opus|sonnet|haiku)-(\d{1,2})(?!\d)(?:[-.](\d{1,2})(?!\d))?/.exec(id);
  if (modern) {
    return { family: modern[1] as Family, version: Number(modern[2]) * 100 + Number(modern[3] ?? 0) };
  }
  const legacy = /claude-(\d+)(?:[-.](\d{1,2}))?-(opus|sonnet|haiku)/.exec(id);
  if (legacy) {
    return { family: legacy[3] as Family, version: Number(legacy[1]) * 100 + Number(legacy[2] ?? 0) };
  }
  return undefined;
}

export interface PriceMatch {
  price: Price;
  /** "override" with the matching prefix, or the built-in family name. */
  source: "override" | "builtin";
  matched: string;
}

/** The price of a model, or undefined when it is neither overridden nor in the built-in table. */
export function priceFor(model: string, overrides: PriceOverrides = {}): PriceMatch | undefined {
  const prefix = Object.keys(overrides)
    .filter((p) => model.startsWith(p))
    .sort((a, b) => b.length - a.length)[0];
  if (prefix !== undefined) return { price: overrides[prefix], source: "override", matched: prefix };
  const fam = modelFamily(model);
  if (!fam) return undefined;
  const rule = RULES.find((r) => r.family === fam.family && fam.version >= r.from && fam.version <= r.to);
  return rule ? { price: rule.price, source: "builtin", matched: rule.name } : undefined;
}

export interface Cost {
  usd: number;
  /** False for models without a known price: their usage costs 0 and should be reported as unpriced. */
  priced: boolean;
  match?: PriceMatch;
}

/** The cost of some token totals of one model. */
export function costOf(
  totals: Pick<TokenCounts, "input" | "output" | "cacheCreation" | "cacheRead"> & {
    cacheCreation1h?: number;
  },
  model: string,
  overrides?: PriceOverrides,
): Cost {
  const match = priceFor(model, overrides);
  if (!match) return { usd: 0, priced: false };
  const p = match.price;
  const write1h = Math.min(totals.cacheCreation1h ?? 0, totals.cacheCreation);
  const write5m = totals.cacheCreation - write1h;
  const micro = totals.input * p.input + totals.output * p.output + write5m * p.cacheWrite5m +
    write1h * p.cacheWrite1h + totals.cacheRead * p.cacheRead;
  return { usd: micro / 1_000_000, priced: true, match };
}
