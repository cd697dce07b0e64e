import { assert, assertEquals, assertNotEquals } from "../../helpers/assert.ts";
import {
  parseUsageLine,
  tokenCounts,
  UsageAccumulator,
  type UsageRecord,
} from "../../../lib/claude/transcript.ts";
import { costOf } from "../../../lib/claude/pricing.ts";

const FIXTURES = new URL("../../fixtures/transcripts/", import.meta.url);

interface Expected {
  files: string[];
  totals: unknown;
  sessions: unknown;
  overall: { input: number; output: number; cacheCreation: number; cacheRead: number };
  costUsd: Record<string, number>;
}

async function loadFixture(name: string): Promise<{ expected: Expected; lines: string[][] }> {
  const dir = new URL(`${name}/`, FIXTURES);
  const expected = JSON.parse(await Deno.readTextFile(new URL("expected.json", dir))) as Expected;
  const lines = await Promise.all(
    expected.files.map(async (f) => (await Deno.readTextFile(new URL(f, dir))).split("\n")),
  );
  return { expected, lines };
}

/** What a naive reader gets by summing every line that carries a usage object. */
function naiveTotals(lines: string[]) {
  const sum = { input: 0, output: 0, cacheCreation: 0, cacheRead: 0 };
  for (const line of lines) {
    try {
      const usage = JSON.parse(line)?.message?.usage;
      if (!usage) continue;
      sum.input += usage.input_tokens ?? 0;
      sum.output += usage.output_tokens ?? 0;
      sum.cacheCreation += usage.cache_creation_input_tokens ?? 0;
      sum.cacheRead += usage.cache_read_input_tokens ?? 0;
    } catch { /* malformed */ }
  }
  return sum;
}

for (const name of ["basic", "resumed"]) {
  Deno.test(`claude transcript: de-duplicated totals of the '${name}' fixture match the hand-worked ones`, async () => {
    const { expected, lines } = await loadFixture(name);
    const acc = new UsageAccumulator();
    for (const file of lines) for (const line of file) acc.add(line);
    assertEquals(acc.totals(), expected.totals);
    assertEquals(acc.sessions(), expected.sessions);
    assertEquals(acc.overall(), expected.overall);

    const cost: Record<string, number> = {};
    for (const t of acc.totals()) {
      const c = costOf(t, t.model);
      assert(c.priced, `${t.model} is priced`);
      cost[t.model] = Math.round(((cost[t.model] ?? 0) + c.usd) * 1e9) / 1e9;
    }
    assertEquals(cost, expected.costUsd);

    // The same lines summed naively give other numbers: the check above can fail.
    const naive = naiveTotals(lines.flat());
    const { input, output, cacheCreation, cacheRead } = expected.overall;
    assertNotEquals(naive, { input, output, cacheCreation, cacheRead });
  });
}

Deno.test("claude transcript: totals grow incrementally and ids are remembered across files", async () => {
  const { expected, lines } = await loadFixture("basic");
  const acc = new UsageAccumulator();
  for (const line of lines[0]) acc.add(line);
  const afterMain = acc.overall();
  assertEquals(afterMain.assistantMessages, 5, "msg_A, msg_B, msg_D twice, msg_E");
  assertEquals(afterMain.userMessages, 2);
  // The subagent file repeats msg_B: with the shared accumulator it is not counted again.
  const counted = lines[1].filter((l) => l !== "").map((l) => acc.add(l));
  assertEquals(counted, [true, true, false, false]);
  assertEquals(acc.overall(), expected.overall);
});

Deno.test("claude transcript: parseUsageLine classifies lines", () => {
  assertEquals(parseUsageLine("").kind, "ignored");
  assertEquals(parseUsageLine("{not json").kind, "malformed");
  assertEquals(parseUsageLine("[1,2]").kind, "malformed");
  assertEquals(parseUsageLine('{"type":"summary","summary":"x"}'), {
    kind: "ignored",
    reason: "type summary",
  });
  const toolResult = { type: "user", message: { content: [{ type: "tool_result", content: "ok" }] } };
  assertEquals(parseUsageLine(JSON.stringify(toolResult)), { kind: "ignored", reason: "tool result" });
  assertEquals(parseUsageLine('{"type":"user","isMeta":true,"message":{"content":"x"}}').kind, "ignored");
  assertEquals(parseUsageLine('{"type":"assistant","message":{"id":"m","content":[]}}'), {
    kind: "ignored",
    reason: "no usage",
  });
  const parsed = parseUsageLine(JSON.stringify({
    type: "assistant",
    sessionId: "s",
    isSidechain: true,
    requestId: "req_1",
    timestamp: "2026-01-01T00:00:00.000Z",
    message: {
      id: "msg_1",
      model: "claude-sonnet-4-5-20250929",
      usage: { input_tokens: 3, output_tokens: 10 },
    },
  }));
  assertEquals(parsed, {
    kind: "record",
    record: {
      type: "assistant",
      sessionId: "s",
      timestamp: "2026-01-01T00:00:00.000Z",
      isSidechain: true,
      uuid: undefined,
      model: "claude-sonnet-4-5-20250929",
      messageId: "msg_1",
      requestId: "req_1",
      isApiError: false,
      usage: { input: 3, output: 10, cacheCreation: 0, cacheCreation1h: 0, cacheRead: 0 },
    },
  });
});

Deno.test("claude transcript: cache creation is the 5m+1h breakdown when present, else the flat total", () => {
  assertEquals(
    tokenCounts({
      input_tokens: 1,
      output_tokens: 2,
      cache_creation_input_tokens: 999,
      cache_read_input_tokens: 4,
      cache_creation: { ephemeral_5m_input_tokens: 10, ephemeral_1h_input_tokens: 5 },
    }),
    { input: 1, output: 2, cacheCreation: 15, cacheCreation1h: 5, cacheRead: 4 },
  );
  assertEquals(
    tokenCounts({
      input_tokens: 1,
      output_tokens: 2,
      cache_creation_input_tokens: 30,
      cache_read_input_tokens: -4,
    }),
    { input: 1, output: 2, cacheCreation: 30, cacheCreation1h: 0, cacheRead: 0 },
  );
});

Deno.test("claude transcript: a record missing either id is always counted; errors and <synthetic> are not", () => {
  const usage = { input: 1, output: 1, cacheCreation: 0, cacheCreation1h: 0, cacheRead: 0 };
  const base: UsageRecord = { type: "assistant", sessionId: "s", isSidechain: false, model: "m", usage };
  const acc = new UsageAccumulator();
  assertEquals(acc.add({ ...base, messageId: "a" }), true);
  assertEquals(acc.add({ ...base, messageId: "a" }), true, "no requestId: not de-duplicated");
  assertEquals(acc.add({ ...base, requestId: "r" }), true);
  assertEquals(acc.add({ ...base, requestId: "r" }), true, "no message id: not de-duplicated");
  assertEquals(acc.add({ ...base, messageId: "a", requestId: "r" }), true);
  assertEquals(acc.add({ ...base, messageId: "a", requestId: "r" }), false);
  assertEquals(acc.add({ ...base, messageId: "b", requestId: "r" }), true, "the pair is the key");
  assertEquals(acc.add({ ...base, messageId: "c", requestId: "x", isApiError: true }), false);
  assertEquals(acc.add({ ...base, messageId: "d", requestId: "y", model: "<synthetic>" }), false);
  assertEquals(acc.add({ ...base, usage: undefined }), false);
  assertEquals(acc.add("garbage"), false);
  const overall = acc.overall();
  assertEquals([
    overall.input,
    overall.assistantMessages,
    overall.duplicates,
    overall.skipped,
    overall.malformed,
  ], [
    6,
    6,
    1,
    2,
    1,
  ]);
});
