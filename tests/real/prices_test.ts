/**
 * The built-in price table equals the pinned Claude Code's own prices, model by model: known usage of one
 * kind per turn is driven through the real client and its reported `costUSD` read back.
 */
import { FAST_TIER } from "../helpers/env.ts";
import { assertEquals } from "../helpers/assert.ts";
import { removeDir, tempDir } from "../helpers/fs.ts";
import { priceFor, PRICES_FROM_CLAUDE_CODE } from "../../lib/claude/pricing.ts";
import {
  CLAUDE_CODE_VERSION,
  claudeEnv,
  ensureClaudeCode,
  prepareConfigDir,
  SKIP_REAL,
} from "./claude_code.ts";
import { MessagesApi, type Usage } from "./messages_api.ts";

/** Every model id the pinned Claude Code names (from its binary), in the spellings people use. */
const MODELS = [
  "claude-opus-5-5",
  "claude-opus-5",
  "claude-opus-4-8",
  "claude-opus-4-7",
  "claude-opus-4-6",
  "claude-opus-4-5-20251101",
  "claude-opus-4-1-20250805",
  "claude-opus-4-20250514",
  "claude-3-opus-20240229",
  "claude-sonnet-5-5",
  "claude-sonnet-5",
  "claude-sonnet-4-6",
  "claude-sonnet-4-5-20250929",
  "claude-sonnet-4-20250514",
  "claude-3-7-sonnet-20250219",
  "claude-3-5-sonnet-20241022",
  "claude-3-sonnet-20240229",
  "claude-haiku-5-5",
  "claude-haiku-4-5-20251001",
  "claude-3-5-haiku-20241022",
  "claude-3-haiku-20240307",
  "claude-mythos-5",
  "claude-mythos-5-1",
  "claude-mythos-5-2",
  "claude-mythos-preview",
  "us.anthropic.claude-sonnet-4-5-20250929-v1:0",
  "claude-opus-4-5@20251101",
];

const KINDS = ["input", "output", "cacheRead", "cacheWrite5m", "cacheWrite1h"] as const;
const N = 100_000;
const ZERO: Usage = { input: 0, output: 0, cacheRead: 0, cacheWrite5m: 0, cacheWrite1h: 0 };

/** USD per million tokens of each kind, as Claude Code charges them for `model`. */
async function claudeCodePrices(bin: string, api: MessagesApi, model: string): Promise<number[]> {
  const dir = await tempDir("stratavore-price-");
  try {
    await prepareConfigDir(dir, [dir]);
    const child = new Deno.Command(bin, {
      args: [
        "-p",
        "--input-format",
        "stream-json",
        "--output-format",
        "stream-json",
        "--verbose",
        "--model",
        model,
      ],
      env: { ...claudeEnv({ apiUrl: api.url, configDir: dir }), PATH: Deno.env.get("PATH") ?? "" },
      clearEnv: true,
      cwd: dir,
      stdin: "piped",
      stdout: "piped",
      stderr: "null",
    }).spawn();
    const writer = child.stdin.getWriter();
    const lines = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
    const out: number[] = [];
    let buf = "";
    for (const kind of KINDS) {
      // Each turn is one conversation request with one kind of usage; the marker routes it here even when
      // turns of several models are in flight at once.
      const marker = `price-${crypto.randomUUID()}`;
      api.routes.set(marker, { usage: { ...ZERO, [kind]: N } });
      await writer.write(
        new TextEncoder().encode(
          JSON.stringify({ type: "user", message: { role: "user", content: marker } }) + "\n",
        ),
      );
      let cost: number | undefined;
      while (cost === undefined) {
        const { value, done } = await lines.read();
        if (done) throw new Error(`claude --model ${model} ended before answering`);
        buf += value;
        let i;
        while ((i = buf.indexOf("\n")) >= 0) {
          const ev = JSON.parse(buf.slice(0, i));
          buf = buf.slice(i + 1);
          if (ev.type === "result") {
            const usage = Object.values(ev.model_usage_since_last_result ?? {}) as { costUSD: number }[];
            cost = usage.reduce((s, m) => s + m.costUSD, 0);
          }
        }
      }
      out.push(Math.round((cost * 1e6 / N) * 1e6) / 1e6);
    }
    await writer.close();
    await child.status;
    return out;
  } finally {
    await removeDir(dir);
  }
}

Deno.test({
  name:
    "real claude: the built-in price table equals the pinned Claude Code's own prices, for every model it names",
  ignore: SKIP_REAL || FAST_TIER,
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    assertEquals(
      PRICES_FROM_CLAUDE_CODE,
      CLAUDE_CODE_VERSION,
      "the table says which version it was read from",
    );
    const bin = await ensureClaudeCode();
    const api = new MessagesApi().start();
    try {
      const results = new Map<string, number[]>();
      // Three clients at a time: most of a run is start-up, not CPU.
      const queue = [...MODELS];
      await Promise.all([0, 1, 2].map(async () => {
        for (let m = queue.shift(); m; m = queue.shift()) results.set(m, await claudeCodePrices(bin, api, m));
      }));
      const differ: string[] = [];
      for (const model of MODELS) {
        const p = priceFor(model)?.price;
        const ours = p ? [p.input, p.output, p.cacheRead, p.cacheWrite5m, p.cacheWrite1h] : undefined;
        const theirs = results.get(model)!;
        if (JSON.stringify(ours) !== JSON.stringify(theirs)) {
          differ.push(`${model}: table ${JSON.stringify(ours)}, Claude Code ${JSON.stringify(theirs)}`);
        }
      }
      assertEquals(
        differ,
        [],
        "prices (input, output, cache read, cache write 5m, 1h per million) differ from Claude Code's",
      );
    } finally {
      await api.close();
    }
  },
});
