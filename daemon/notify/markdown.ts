/**
 * Telegram MarkdownV2: outside entities every one of `_ * [ ] ( ) ~ ` > # + - = | { } . !` and the
 * backslash itself must be escaped with a backslash, or Telegram refuses the whole message.
 */

const SPECIAL = /[_*[\]()~`>#+\-=|{}.!\\]/g;

/** Plain text → MarkdownV2 text that Telegram shows exactly as the plain text. */
export function escapeMarkdown(text: string): string {
  return text.replace(SPECIAL, (c) => "\\" + c);
}

/** Cuts plain text to at most `max` characters (before escaping, so no escape is ever split). */
export function truncate(text: string, max: number): string {
  if (text.length <= max) return text;
  let cut = text.slice(0, max - 1);
  const last = cut.charCodeAt(cut.length - 1);
  if (last >= 0xd800 && last <= 0xdbff) cut = cut.slice(0, -1); // half of a surrogate pair
  return cut + "…";
}
