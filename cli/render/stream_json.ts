/** Claude Code's stream-json output (a detached runner's log) as lines a person can read. */
import { paint } from "./ansi.ts";

function short(v: unknown, max = 100): string {
  const text = typeof v === "string" ? v : JSON.stringify(v);
  const one = text.replace(/\s+/g, " ").trim();
  return one.length > max ? one.slice(0, max - 1) + "…" : one;
}

/** One log line → zero or more display lines. */
export function renderStreamLine(line: string, color: boolean): string[] {
  let ev: Record<string, unknown>;
  try {
    ev = JSON.parse(line);
  } catch {
    return line.trim() ? [line] : [];
  }
  const out: string[] = [];
  if (ev.type === "system" && ev.subtype === "init") {
    out.push(paint(`● session ${ev.session_id} · ${ev.model ?? "?"} · ${ev.cwd ?? ""}`, "cyan", color));
  } else if (ev.type === "assistant" || ev.type === "user") {
    const msg = (ev.message ?? {}) as { content?: unknown };
    const content = Array.isArray(msg.content)
      ? msg.content
      : typeof msg.content === "string"
      ? [{ type: "text", text: msg.content }]
      : [];
    for (const block of content as Record<string, unknown>[]) {
      if (block.type === "text" && ev.type === "assistant") out.push(String(block.text ?? ""));
      else if (block.type === "tool_use") {
        out.push(paint(`→ ${block.name} ${short(block.input)}`, "yellow", color));
      } else if (block.type === "tool_result") {
        const text = Array.isArray(block.content)
          ? (block.content as { text?: string }[]).map((c) => c.text ?? "").join(" ")
          : block.content;
        out.push(paint(`← ${short(text)}`, "gray", color));
      }
    }
  } else if (ev.type === "result") {
    const ok = ev.is_error !== true;
    const secs = typeof ev.duration_ms === "number" ? `${(ev.duration_ms / 1000).toFixed(1)}s` : "?";
    const cost = typeof ev.total_cost_usd === "number" ? ` · $${ev.total_cost_usd.toFixed(4)}` : "";
    out.push(
      paint(
        `${ok ? "✓ done" : "✗ failed"} in ${secs} · ${ev.num_turns ?? "?"} turn(s)${cost}`,
        ok ? "green" : "red",
        color,
      ),
    );
  }
  return out;
}
