/**
 * Detached, headless runs: the child's stdout (Claude Code's stream-json) is kept verbatim in the runner's
 * log file, and read on the way for the session id (`system/init`) and the final usage (`result`).
 */

import { fromRateLimitEvent, isLimitRefusal } from "../lib/claude/limits.ts";
import type { LimitsReport } from "../lib/schemas/limits.ts";

export interface StreamFacts {
  sessionId?: string;
  /** The latest subscription-limit figures the run reported (`rate_limit_event`). */
  rateLimit?: Omit<LimitsReport, "source" | "account">;
  /** A request was refused for the usage limit (the run was cut off by it). */
  limitRefused?: boolean;
  model?: string;
  result?: {
    isError: boolean;
    numTurns?: number;
    costUsd?: number;
    durationMs?: number;
    usage?: { input: number; output: number; cacheCreation: number; cacheRead: number };
    /** Claude Code's own figures per model (`modelUsage`): its cost and tokens, cumulative for the run. */
    modelUsage?: ModelUsage[];
  };
}

export interface ModelUsage {
  model: string;
  costUsd: number;
  input: number;
  output: number;
  cacheRead: number;
  cacheCreation: number;
}

function modelUsageOf(v: unknown): ModelUsage[] | undefined {
  if (!v || typeof v !== "object" || Array.isArray(v)) return undefined;
  return Object.entries(v as Record<string, Record<string, unknown>>)
    .filter(([model, m]) => model && m && typeof m === "object" && typeof m.costUSD === "number")
    .map(([model, m]) => ({
      model,
      costUsd: num(m.costUSD),
      input: num(m.inputTokens),
      output: num(m.outputTokens),
      cacheRead: num(m.cacheReadInputTokens),
      cacheCreation: num(m.cacheCreationInputTokens),
    }));
}

function num(v: unknown): number {
  return typeof v === "number" && Number.isFinite(v) ? v : 0;
}

export type StreamFact = "init" | "result" | "rate_limit";

/** Applies one stream-json line to the facts; returns what it revealed, for the caller to act on. */
export function readStreamLine(line: string, facts: StreamFacts): StreamFact | undefined {
  let ev: Record<string, unknown>;
  try {
    ev = JSON.parse(line);
  } catch {
    return undefined;
  }
  if (ev?.type === "system" && ev.subtype === "init" && typeof ev.session_id === "string") {
    facts.sessionId = ev.session_id;
    if (typeof ev.model === "string") facts.model = ev.model;
    return "init";
  }
  if (ev?.type === "rate_limit_event") {
    const r = fromRateLimitEvent(ev);
    if (!r) return undefined;
    facts.rateLimit = r;
    return "rate_limit";
  }
  if (isLimitRefusal(ev)) facts.limitRefused = true;
  if (ev?.type === "result") {
    const u = (ev.usage ?? {}) as Record<string, unknown>;
    facts.result = {
      isError: ev.is_error === true,
      numTurns: typeof ev.num_turns === "number" ? ev.num_turns : undefined,
      costUsd: typeof ev.total_cost_usd === "number" ? ev.total_cost_usd : undefined,
      durationMs: typeof ev.duration_ms === "number" ? ev.duration_ms : undefined,
      usage: {
        input: num(u.input_tokens),
        output: num(u.output_tokens),
        cacheCreation: num(u.cache_creation_input_tokens),
        cacheRead: num(u.cache_read_input_tokens),
      },
      modelUsage: modelUsageOf(ev.modelUsage),
    };
    if (typeof ev.session_id === "string") facts.sessionId ??= ev.session_id;
    return "result";
  }
  return undefined;
}

/** Copies the stream to the log file, calling onFact as lines reveal the session and the result. */
export async function captureStream(
  stream: ReadableStream<Uint8Array>,
  logPath: string,
  facts: StreamFacts,
  onFact: (kind: StreamFact) => void,
): Promise<void> {
  const file = await Deno.open(logPath, { create: true, append: true });
  const decoder = new TextDecoder();
  let pending = "";
  try {
    for await (const chunk of stream) {
      await file.write(chunk);
      pending += decoder.decode(chunk, { stream: true });
      let i;
      while ((i = pending.indexOf("\n")) >= 0) {
        const kind = readStreamLine(pending.slice(0, i), facts);
        pending = pending.slice(i + 1);
        if (kind) onFact(kind);
      }
    }
    if (pending.trim()) {
      const kind = readStreamLine(pending, facts);
      if (kind) onFact(kind);
    }
  } finally {
    file.close();
  }
}
