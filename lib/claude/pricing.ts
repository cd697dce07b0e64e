/**
 * Claude Code's own prices in USD per million tokens, matched by model family and version parsed from the
 * model id (first-party `claude-sonnet-4-5-20250929`, legacy `claude-3-7-sonnet-…`, Bedrock
 * `us.anthropic.claude-…-v1:0`, Vertex `claude-…@2025…`). Overrides from configuration win.
 *
 * This table is only for usage that carries no cost of Claude Code's own (transcripts from before telemetry,
 * sessions whose telemetry goes elsewhere): such costs are estimates. The prices are read from the pinned
 * Claude Code itself (tests/real/prices_test.ts drives known usage through it per model and fails when they
 * differ), because several differ from the list prices people quote and from a fixed 1.25×/2×/0.1× rule.
 */
import { z } from "zod";
import type { TokenCounts } from "../tokens.ts";

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
  cacheRead: number,
  cacheWrite5m: number,
  cacheWrite1h: number,
) => ({ input, output, cacheWrite5m, cacheWrite1h, cacheRead }) satisfies Price;

type Family = "opus" | "sonnet" | "haiku" | "mythos";

/** The Claude Code version the table was read from (and the real-client tier checks it against). */
export const PRICES_FROM_CLAUDE_CODE = "2.1.328";

/**
 * What Claude Code charges for a model id it names but has no price of its own for (the price of its
 * default model): the Opus 4.0/4.1 and Claude 3 Opus/Sonnet/Haiku ids and `claude-mythos-preview`. The
 * table follows it, so an estimate equals what Claude Code would have reported.
 */
const CLAUDE_CODE_DEFAULT = price(4, 20, 0.2, 5, 8);

interface Rule {
  family: Family;
  /** Versions as major*100 + minor (4.1 → 401). */
  versions: number[];
  name: string;
  price: Price;
}

// Columns: input, output, cache read, cache write 5 minutes, cache write 1 hour.
const RULES: Rule[] = [
  { family: "opus", versions: [505], name: "Opus 5.5", price: price(4, 20, 0.2, 5, 8) },
  { family: "opus", versions: [500], name: "Opus 5", price: price(5, 25, 0.5, 6.25, 10) },
  {
    family: "opus",
    versions: [405, 406, 407, 408],
    name: "Opus 4.5-4.8",
    price: price(5, 25, 0.5, 6.25, 10),
  },
  {
    family: "opus",
    versions: [300, 400, 401],
    name: "Opus 3/4/4.1 (Claude Code default)",
    price: CLAUDE_CODE_DEFAULT,
  },
  { family: "sonnet", versions: [505], name: "Sonnet 5.5", price: price(2, 10, 0.1, 2.5, 4) },
  { family: "sonnet", versions: [500], name: "Sonnet 5", price: price(2, 10, 0.2, 2.5, 4) },
  {
    family: "sonnet",
    versions: [305, 307, 400, 405, 406],
    name: "Sonnet 3.5-4.6",
    price: price(3, 15, 0.3, 3.75, 6),
  },
  { family: "sonnet", versions: [300], name: "Sonnet 3 (Claude Code default)", price: CLAUDE_CODE_DEFAULT },
  { family: "haiku", versions: [505], name: "Haiku 5.5", price: price(0.1, 0.5, 0.01, 0.125, 0.2) },
  { family: "haiku", versions: [405], name: "Haiku 4.5", price: price(1, 5, 0.1, 1.25, 2) },
  { family: "haiku", versions: [305], name: "Haiku 3.5", price: price(0.8, 4, 0.08, 1, 1.6) },
  { family: "haiku", versions: [300], name: "Haiku 3 (Claude Code default)", price: CLAUDE_CODE_DEFAULT },
  { family: "mythos", versions: [500], name: "Mythos 5", price: price(10, 50, 1, 12.5, 20) },
  { family: "mythos", versions: [501], name: "Mythos 5.1", price: price(10, 50, 0.25, 12.5, 20) },
  { family: "mythos", versions: [502], name: "Mythos 5.2", price: price(8, 40, 0.2, 10, 16) },
];

/** Ids without a version number that Claude Code names. */
const NAMED: { prefix: string; name: string; price: Price }[] = [
  {
    prefix: "claude-mythos-preview",
    name: "Mythos preview (Claude Code default)",
    price: CLAUDE_CODE_DEFAULT,
  },
];

/**
 * Family and version from a model id. Versions are one or two digits not followed by more digits, so the
 * 8-digit date in `claude-opus-4-20250514` or `claude-3-5-haiku-20241022` is never read as a version.
 */
export function modelFamily(model: string): { family: Family; version: number } | undefined {
  const id = model.toLowerCase();
  const modern = /(opus|sonnet|haiku|mythos)-(\d{1,2})(?!\d)(?:[-.](\d{1,2})(?!\d))?/.exec(id);
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
  const named = NAMED.find((n) => model.toLowerCase().includes(n.prefix));
  if (named) return { price: named.price, source: "builtin", matched: named.name };
  const fam = modelFamily(model);
  if (!fam) return undefined;
  const rule = RULES.find((r) => r.family === fam.family && r.versions.includes(fam.version));
  return rule ? { price: rule.price, source: "builtin", matched: rule.name } : undefined;
}

export interface Cost {
  usd: number;
  /** False for models without a known price: their usage is unpriced (shown so, never as $0). */
  priced: boolean;
  match?: PriceMatch;
}

/** The cost of some token totals of one model. */
export function costOf(
  totals: TokenCounts & { cacheCreation1h?: number },
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
