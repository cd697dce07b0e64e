/**
 * The one entry Stratavore reads from Claude Code's state file (`~/.claude.json`): `oauthAccount`, the login.
 * The file keeps an entry per project folder ever opened, and files written by Claude Code 1.x also hold every
 * project's prompt history (2.1.328 keeps that in history.jsonl, checked), so a long-used one runs to
 * megabytes; parsing it whole left that much in the heap of each process that asked (every agent beside its
 * session for as long as it ran: +11.5 MB RSS with a 5 MB file; the daemon; the statusline after every turn).
 * So the file is read in chunks, searched for the key, and only that object is parsed.
 */

const KEY = '"oauthAccount"';
/** Past this many characters from the key, what follows is not a login object: give up. */
const MAX_OBJECT = 1 << 20;

/**
 * Where the object after `"oauthAccount":` ends (the index after its `}`), -1 when the text ends first, or
 * -2 when the key is not followed by `: {` (a string that happens to read "oauthAccount", or null).
 */
function objectEnd(text: string, from: number): number {
  let i = from;
  const skip = () => {
    while (i < text.length && (text[i] === " " || text[i] === "\n" || text[i] === "\r" || text[i] === "\t")) {
      i++;
    }
  };
  skip();
  if (i >= text.length) return -1;
  if (text[i] !== ":") return -2;
  i++;
  skip();
  if (i >= text.length) return -1;
  if (text[i] !== "{") return -2;
  let depth = 0;
  let inString = false;
  for (; i < text.length; i++) {
    const c = text[i];
    if (inString) {
      if (c === "\\") i++;
      else if (c === '"') inString = false;
    } else if (c === '"') inString = true;
    else if (c === "{") depth++;
    else if (c === "}" && --depth === 0) return i + 1;
  }
  return -1;
}

/**
 * The `oauthAccount` object of a Claude Code state file, or undefined when it has none (or is not readable:
 * the caller falls back to the config folder). A key inside a string is escaped (`\"oauthAccount\"`), so an
 * unescaped one followed by `:` is the key; Claude Code writes it once, at the top level.
 */
export async function readOauthAccount(
  path: string,
  chunkSize = 64 * 1024,
): Promise<Record<string, unknown> | undefined> {
  let file: Deno.FsFile;
  try {
    file = await Deno.open(path, { read: true });
  } catch {
    return undefined;
  }
  try {
    const decoder = new TextDecoder();
    const buf = new Uint8Array(chunkSize);
    let text = "";
    let searched = 0; // text before this holds no key
    for (;;) {
      const n = await file.read(buf);
      text += n === null ? decoder.decode() : decoder.decode(buf.subarray(0, n), { stream: true });
      for (;;) {
        const at = text.indexOf(KEY, searched);
        if (at < 0) {
          // Keep only what could be the start of a key cut by the chunk's end, and the backslashes before it.
          text = text.slice(Math.max(0, text.length - (KEY.length - 1 + 64)));
          searched = 0;
          break;
        }
        // A quote after an odd run of backslashes is inside a string (`"x\"oauthAccount": …` is one key).
        let slashes = 0;
        while (at - slashes > 0 && text[at - slashes - 1] === "\\") slashes++;
        const end = slashes % 2 ? -2 : objectEnd(text, at + KEY.length);
        if (end === -2) {
          searched = at + KEY.length;
          continue;
        }
        if (end === -1) {
          // The object goes on in the next chunk: keep it from its key.
          text = text.slice(at);
          searched = 0;
          if (text.length > MAX_OBJECT) return undefined;
          break;
        }
        // The key and its object are one JSON member: parsed as an object of that one member.
        const value: unknown = JSON.parse(`{${text.slice(at, end)}}`).oauthAccount;
        return typeof value === "object" && value !== null && !Array.isArray(value)
          ? value as Record<string, unknown>
          : undefined;
      }
      if (n === null) return undefined;
    }
  } catch {
    return undefined; // not JSON where the key said it would be: as if there were no login
  } finally {
    file.close();
  }
}
