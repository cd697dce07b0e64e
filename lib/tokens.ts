/**
 * Token counts in one shape for the schemas, the daemon, the agent, the CLI and the web: the four kinds the
 * API reports and their total (what ccusage counts too), and the transcript's finer breakdown that also
 * keeps the 1-hour part of the cache writes apart, because it is priced higher. No zod here (the web
 * bundle imports it); lib/schemas/common.ts checks the same shape at the API.
 */
export interface TokenCounts {
  input: number;
  output: number;
  /** Cache writes, 5-minute and 1-hour together. */
  cacheCreation: number;
  cacheRead: number;
}

/** TokenCounts with the 1-hour part of cacheCreation (included in it) kept apart for pricing. */
export interface DetailedTokenCounts extends TokenCounts {
  cacheCreation1h: number;
}

/** Every token counted once: input, output, cache writes and cache reads. */
export function tokenTotal(t: TokenCounts | null | undefined): number {
  return t ? t.input + t.output + t.cacheCreation + t.cacheRead : 0;
}

export function zeroTokens(): DetailedTokenCounts {
  return { input: 0, output: 0, cacheCreation: 0, cacheCreation1h: 0, cacheRead: 0 };
}

export function addTokens(into: DetailedTokenCounts, from: DetailedTokenCounts): void {
  into.input += from.input;
  into.output += from.output;
  into.cacheCreation += from.cacheCreation;
  into.cacheCreation1h += from.cacheCreation1h;
  into.cacheRead += from.cacheRead;
}
