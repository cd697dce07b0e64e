/**
 * Sizes as the CLI and the web dashboard both show them: powers of 1024 with their IEC names (KiB, MiB, GiB,
 * TiB), one decimal below 100 of a unit. No zod and no Deno API here: the web bundle imports it.
 */
export function formatBytes(n: number): string {
  if (n < 1024) return `${Math.round(n)} B`;
  const units = ["KiB", "MiB", "GiB", "TiB"];
  let v = n / 1024;
  let i = 0;
  while (v >= 1023.95 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return `${v < 99.95 ? v.toFixed(1) : Math.round(v)} ${units[i]}`;
}
