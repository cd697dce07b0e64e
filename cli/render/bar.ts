/** A usage bar: filled to the percentage, coloured by state (green, then yellow at a warning, red when exhausted). */
import { type Colour, paint } from "./ansi.ts";

export function usageBar(
  percent: number,
  width: number,
  color: boolean,
  state?: "ok" | "warning" | "exceeded",
): string {
  const filled = Math.max(0, Math.min(width, Math.round((percent / 100) * width)));
  const colour: Colour = state === "exceeded" ? "red" : state === "warning" ? "yellow" : "green";
  return paint("█".repeat(filled), colour, color) + paint("░".repeat(width - filled), "gray", color);
}
