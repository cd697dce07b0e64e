/**
 * A detached runner's log (Claude Code's stream-json) as lines a person can read: the session start,
 * the assistant's text, tool calls and their results, and the final result. One reading for
 * `stratavore logs` (cli/render/stream_json.ts colours it) and the web page (web/src/pages/runner.ts);
 * each line carries its kind so each can style it.
 */
export type LineKind = "init" | "text" | "tool" | "result-tool" | "done" | "error" | "raw";

export interface LogLine {
  kind: LineKind;
  text: string;
}

function short(v: unknown, max = 160): string {
  const text = typeof v === "string" ? v : JSON.stringify(v);
  const one = (text ?? "").replace(/\s+/g, " ").trim();
  return one.length > max ? one.slice(0, max - 1) + "…" : one;
}

/** One log line → zero or more readable lines; tool inputs and results are cut to `max` characters. */
export function readableLines(line: string, max = 160): LogLine[] {
  if (!line.trim()) return [];
  let ev: Record<string, unknown>;
  try {
    ev = JSON.parse(line);
  } catch {
    return [{ kind: "raw", text: line }];
  }
  if (typeof ev !== "object" || ev === null) return [{ kind: "raw", text: line }];
  const out: LogLine[] = [];
  if (ev.type === "system" && ev.subtype === "init") {
    out.push({ kind: "init", text: `● session ${ev.session_id} · ${ev.model ?? "?"} · ${ev.cwd ?? ""}` });
  } else if (ev.type === "assistant" || ev.type === "user") {
    const msg = (ev.message ?? {}) as { content?: unknown };
    const content = Array.isArray(msg.content)
      ? msg.content
      : typeof msg.content === "string"
      ? [{ type: "text", text: msg.content }]
      : [];
    for (const block of content as Record<string, unknown>[]) {
      if (block.type === "text" && ev.type === "assistant") {
        out.push({ kind: "text", text: String(block.text ?? "") });
      } else if (block.type === "tool_use") {
        out.push({ kind: "tool", text: `→ ${block.name} ${short(block.input, max)}` });
      } else if (block.type === "tool_result") {
        const text = Array.isArray(block.content)
          ? (block.content as { text?: string }[]).map((c) => c.text ?? "").join(" ")
          : block.content;
        out.push({ kind: "result-tool", text: `← ${short(text, max)}` });
      }
    }
  } else if (ev.type === "result") {
    const ok = ev.is_error !== true;
    const secs = typeof ev.duration_ms === "number" ? `${(ev.duration_ms / 1000).toFixed(1)}s` : "?";
    const cost = typeof ev.total_cost_usd === "number" ? ` · $${ev.total_cost_usd.toFixed(4)}` : "";
    out.push({
      kind: ok ? "done" : "error",
      text: `${ok ? "✓ done" : "✗ failed"} in ${secs} · ${ev.num_turns ?? "?"} turn(s)${cost}`,
    });
  }
  return out;
}
