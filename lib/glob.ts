/**
 * Globs over event types (`runner.*,budget.warning`) matched without regular expressions. A regex built from
 * a glob (`*` → `.*`) backtracks exponentially on patterns such as `****************z`: one event stream
 * with that filter stalled the whole daemon. This matcher is the classic two-pointer walk that remembers
 * only the last `*`, so a match costs at most (type length × pattern length) steps, and patterns are capped.
 */

/** Longest single pattern, most `*` in one pattern, most patterns in one list. */
export const GLOB_LIMITS = { length: 100, stars: 8, patterns: 32 } as const;

/** Letters, digits, `_`, `.` and `*`, comma-separated. */
const GLOB_LIST_RE = /^[a-z0-9_.*]+(,[a-z0-9_.*]+)*$/;

/** Why a comma-separated glob list is refused, or undefined when it is fine. */
export function globListProblem(spec: string): string | undefined {
  if (!GLOB_LIST_RE.test(spec)) {
    return "expected comma-separated event types or globs such as runner.*,budget.*";
  }
  const parts = spec.split(",");
  if (parts.length > GLOB_LIMITS.patterns) return `at most ${GLOB_LIMITS.patterns} patterns`;
  for (const p of parts) {
    if (p.length > GLOB_LIMITS.length) return `a pattern may be at most ${GLOB_LIMITS.length} characters`;
    if (p.split("*").length - 1 > GLOB_LIMITS.stars) {
      return `a pattern may hold at most ${GLOB_LIMITS.stars} '*'`;
    }
  }
  return undefined;
}

/** Whether `text` matches `pattern`, where `*` stands for any run of characters (none included). */
export function globMatch(pattern: string, text: string): boolean {
  let p = 0, t = 0;
  let star = -1, resume = 0;
  while (t < text.length) {
    if (p < pattern.length && pattern[p] === "*") {
      star = p++;
      resume = t;
    } else if (p < pattern.length && pattern[p] === text[t]) {
      p++;
      t++;
    } else if (star >= 0) {
      // Let the last `*` swallow one more character and retry from just after it.
      p = star + 1;
      t = ++resume;
    } else return false;
  }
  while (p < pattern.length && pattern[p] === "*") p++;
  return p === pattern.length;
}

/** `runner.*,budget.warning` → a test on event types; an empty list matches everything. */
export function globListMatcher(spec: string | undefined): (text: string) => boolean {
  const parts = (spec ?? "").split(",").map((s) => s.trim()).filter(Boolean);
  if (parts.length === 0) return () => true;
  return (text) => parts.some((p) => globMatch(p, text));
}
