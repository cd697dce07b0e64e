/**
 * Token usage from Claude Code JSONL transcripts. Claude Code writes one line per content block and repeats
 * the message's usage on each, so lines are de-duplicated by (message.id, requestId) the way ccusage does:
 * first occurrence wins, records missing either id are always counted, API-error and `<synthetic>` records
 * are skipped.
 */
import { addTokens, type DetailedTokenCounts, zeroTokens } from "../tokens.ts";

/** The transcript's counts: the API's four kinds with the 1-hour cache writes apart (see lib/tokens.ts). */
export type TokenCounts = DetailedTokenCounts;

/** One user or assistant line of a transcript, reduced to what usage accounting needs. */
export interface UsageRecord {
  type: "user" | "assistant";
  /** "" when the line has none. */
  sessionId: string;
  timestamp?: string;
  isSidechain: boolean;
  uuid?: string;
  /** Assistant lines only. */
  model?: string;
  messageId?: string;
  requestId?: string;
  isApiError?: boolean;
  usage?: TokenCounts;
}

export type ParsedLine =
  | { kind: "record"; record: UsageRecord }
  /** Valid JSON that counts for nothing: summaries, snapshots, tool results, assistant lines without usage. */
  | { kind: "ignored"; reason: string }
  | { kind: "malformed"; error: string };

export interface ModelTotals extends TokenCounts {
  sessionId: string;
  model: string;
  /** De-duplicated assistant messages answered by this model. */
  messages: number;
  firstTimestamp?: string;
  lastTimestamp?: string;
}

export interface SessionTotals {
  sessionId: string;
  userMessages: number;
  assistantMessages: number;
  /** userMessages + assistantMessages. */
  messages: number;
  firstTimestamp?: string;
  lastTimestamp?: string;
}

export interface OverallTotals extends TokenCounts {
  userMessages: number;
  assistantMessages: number;
  messages: number;
  firstTimestamp?: string;
  lastTimestamp?: string;
  /** Lines that were not JSON objects. */
  malformed: number;
  /** Assistant lines dropped as repeats of an already counted (message.id, requestId). */
  duplicates: number;
  /** API-error and `<synthetic>` records. */
  skipped: number;
}

type Json = Record<string, unknown>;

const isObject = (v: unknown): v is Json => typeof v === "object" && v !== null && !Array.isArray(v);
const str = (v: unknown): string | undefined => (typeof v === "string" && v !== "" ? v : undefined);
const count = (v: unknown): number => (typeof v === "number" && Number.isFinite(v) && v > 0 ? v : 0);

/** Reads an API `usage` object; the 5m/1h breakdown wins over the flat total when it is present. */
export function tokenCounts(usage: Json): TokenCounts {
  const breakdown = isObject(usage.cache_creation) ? usage.cache_creation : undefined;
  const cacheCreation1h = breakdown ? count(breakdown.ephemeral_1h_input_tokens) : 0;
  const cacheCreation = breakdown
    ? count(breakdown.ephemeral_5m_input_tokens) + cacheCreation1h
    : count(usage.cache_creation_input_tokens);
  return {
    input: count(usage.input_tokens),
    output: count(usage.output_tokens),
    cacheCreation,
    cacheCreation1h,
    cacheRead: count(usage.cache_read_input_tokens),
  };
}

/** A user line is a prompt unless it only carries tool results (those are the API's "user" turns). */
function isPrompt(content: unknown): boolean {
  if (typeof content === "string") return content !== "";
  if (!Array.isArray(content)) return false;
  return content.some((block) => isObject(block) && block.type !== "tool_result");
}

export function parseUsageLine(line: string): ParsedLine {
  const text = line.trim();
  if (text === "") return { kind: "ignored", reason: "blank" };
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (e) {
    return { kind: "malformed", error: (e as Error).message };
  }
  if (!isObject(data)) return { kind: "malformed", error: "not a JSON object" };
  const type = data.type;
  if (type !== "user" && type !== "assistant") return { kind: "ignored", reason: `type ${String(type)}` };
  const message = isObject(data.message) ? data.message : {};
  const base = {
    sessionId: str(data.sessionId) ?? "",
    timestamp: str(data.timestamp),
    isSidechain: data.isSidechain === true,
    uuid: str(data.uuid),
  };
  if (type === "user") {
    if (data.isMeta === true) return { kind: "ignored", reason: "meta" };
    if (!isPrompt(message.content)) return { kind: "ignored", reason: "tool result" };
    return { kind: "record", record: { type, ...base } };
  }
  if (!isObject(message.usage)) return { kind: "ignored", reason: "no usage" };
  return {
    kind: "record",
    record: {
      type,
      ...base,
      model: str(message.model) ?? "unknown",
      messageId: str(message.id),
      requestId: str(data.requestId),
      isApiError: data.isApiErrorMessage === true,
      usage: tokenCounts(message.usage),
    },
  };
}

const zero = zeroTokens;

interface Span {
  firstTimestamp?: string;
  lastTimestamp?: string;
}

/** Widens a first/last span; timestamps are compared as instants, unparsable ones are ignored. */
function widen(span: Span, ts: string | undefined): void {
  if (ts === undefined) return;
  const t = Date.parse(ts);
  if (Number.isNaN(t)) return;
  if (span.firstTimestamp === undefined || t < Date.parse(span.firstTimestamp)) span.firstTimestamp = ts;
  if (span.lastTimestamp === undefined || t > Date.parse(span.lastTimestamp)) span.lastTimestamp = ts;
}

/**
 * Incremental usage totals: feed lines (or parsed records) as they arrive, from any number of files. Seen
 * ids are remembered across files, so a session and its subagent transcripts share one accumulator.
 */
export class UsageAccumulator {
  #seenAssistant = new Set<string>();
  #seenUser = new Set<string>();
  #byModel = new Map<string, ModelTotals>();
  #bySession = new Map<string, SessionTotals>();
  #malformed = 0;
  #duplicates = 0;
  #skipped = 0;

  /** Adds one line or record; true when it changed the totals. */
  add(input: string | UsageRecord): boolean {
    let record: UsageRecord;
    if (typeof input === "string") {
      const parsed = parseUsageLine(input);
      if (parsed.kind === "malformed") this.#malformed++;
      if (parsed.kind !== "record") return false;
      record = parsed.record;
    } else {
      record = input;
    }
    return record.type === "user" ? this.#addUser(record) : this.#addAssistant(record);
  }

  #session(sessionId: string): SessionTotals {
    let s = this.#bySession.get(sessionId);
    if (!s) {
      s = { sessionId, userMessages: 0, assistantMessages: 0, messages: 0 };
      this.#bySession.set(sessionId, s);
    }
    return s;
  }

  #addUser(record: UsageRecord): boolean {
    // A resumed or copied history repeats user lines with their uuid; count each prompt once.
    if (record.uuid !== undefined) {
      if (this.#seenUser.has(record.uuid)) return false;
      this.#seenUser.add(record.uuid);
    }
    const s = this.#session(record.sessionId);
    s.userMessages++;
    s.messages++;
    widen(s, record.timestamp);
    return true;
  }

  #addAssistant(record: UsageRecord): boolean {
    if (!record.usage) return false;
    if (record.isApiError || record.model === "<synthetic>") {
      this.#skipped++;
      return false;
    }
    if (record.messageId !== undefined && record.requestId !== undefined) {
      const key = `${record.messageId}:${record.requestId}`;
      if (this.#seenAssistant.has(key)) {
        this.#duplicates++;
        return false;
      }
      this.#seenAssistant.add(key);
    }
    const model = record.model ?? "unknown";
    const key = JSON.stringify([record.sessionId, model]);
    let m = this.#byModel.get(key);
    if (!m) {
      m = { sessionId: record.sessionId, model, messages: 0, ...zero() };
      this.#byModel.set(key, m);
    }
    addTokens(m, record.usage);
    m.messages++;
    widen(m, record.timestamp);
    const s = this.#session(record.sessionId);
    s.assistantMessages++;
    s.messages++;
    widen(s, record.timestamp);
    return true;
  }

  /** Per (sessionId, model), sorted by session then model. Copies: safe to keep or change. */
  totals(): ModelTotals[] {
    return [...this.#byModel.values()]
      .map((m) => ({ ...m }))
      .sort((a, b) => a.sessionId.localeCompare(b.sessionId) || a.model.localeCompare(b.model));
  }

  /** Message counts and time span per session. */
  sessions(): SessionTotals[] {
    return [...this.#bySession.values()].map((s) => ({ ...s }))
      .sort((a, b) => a.sessionId.localeCompare(b.sessionId));
  }

  /** Everything summed, with the counts of malformed, duplicate and skipped lines. */
  overall(): OverallTotals {
    const out: OverallTotals = {
      ...zero(),
      userMessages: 0,
      assistantMessages: 0,
      messages: 0,
      malformed: this.#malformed,
      duplicates: this.#duplicates,
      skipped: this.#skipped,
    };
    for (const m of this.#byModel.values()) addTokens(out, m);
    for (const s of this.#bySession.values()) {
      out.userMessages += s.userMessages;
      out.assistantMessages += s.assistantMessages;
      out.messages += s.messages;
      widen(out, s.firstTimestamp);
      widen(out, s.lastTimestamp);
    }
    return out;
  }
}
