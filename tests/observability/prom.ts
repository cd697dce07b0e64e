/** Reading the Prometheus text format in tests, and checking it with promtool. */
import { assertEquals } from "../helpers/assert.ts";

export const PROMTOOL = "promtool";

/** The value of one series (labels given must all match; others may be present), or undefined. */
export function sample(text: string, name: string, labels: Record<string, string> = {}): number | undefined {
  for (const line of text.split("\n")) {
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(.*)\})? (\S+)$/.exec(line);
    if (!m || m[1] !== name) continue;
    const have = Object.fromEntries(
      [...(m[3] ?? "").matchAll(/([a-zA-Z_]\w*)="((?:[^"\\]|\\.)*)"/g)].map((x) => [x[1], x[2]]),
    );
    if (Object.entries(labels).every(([k, v]) => have[k] === v)) return Number(m[4]);
  }
  return undefined;
}

/** Every label value of `label` among the series of `name`. */
export function labelValues(text: string, name: string, label: string): string[] {
  const re = new RegExp(`^${name}\\{[^}]*${label}="((?:[^"\\\\]|\\\\.)*)"`, "gm");
  return [...new Set([...text.matchAll(re)].map((m) => m[1]))];
}

/** The metric families (# TYPE lines) of a scrape. */
export function families(text: string): Map<string, string> {
  return new Map([...text.matchAll(/^# TYPE (\S+) (\S+)$/gm)].map((m) => [m[1], m[2]]));
}

export async function promtool(args: string[], stdin?: string): Promise<{ code: number; out: string }> {
  const child = new Deno.Command(PROMTOOL, {
    args,
    stdin: stdin === undefined ? "null" : "piped",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  if (stdin !== undefined) {
    const w = child.stdin.getWriter();
    await w.write(new TextEncoder().encode(stdin));
    await w.close();
  }
  const o = await child.output();
  const dec = new TextDecoder();
  return { code: o.code, out: dec.decode(o.stdout) + dec.decode(o.stderr) };
}

/** `promtool check metrics`: exit 0 and no lint findings. */
export async function assertValidMetrics(text: string): Promise<void> {
  const r = await promtool(["check", "metrics"], text);
  assertEquals({ code: r.code, out: r.out.trim() }, { code: 0, out: "" }, "promtool check metrics");
}
