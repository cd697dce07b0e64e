/**
 * Where Claude Code keeps its files: config folders, per-project transcript folders, session transcripts
 * and the transcripts of a session's subagents.
 */
import { joinFor } from "../path_join.ts";

type Os = typeof Deno.build.os;

/**
 * The folders Claude Code reads: `$CLAUDE_CONFIG_DIR` when set (ccusage accepts several, comma-separated),
 * else `~/.claude` and the XDG `~/.config/claude` (which newer versions use).
 */
export function claudeConfigDirs(
  env: Record<string, string | undefined>,
  home: string,
  os: Os = Deno.build.os,
): string[] {
  const fromEnv = (env.CLAUDE_CONFIG_DIR ?? "").split(",").map((d) => d.trim()).filter((d) => d !== "");
  if (fromEnv.length > 0) return [...new Set(fromEnv)];
  const join = joinFor(os);
  return [join(home, ".claude"), join(home, ".config", "claude")];
}

/** Claude Code truncates long folder names here and appends a hash so they stay under file-name limits. */
const MAX_ENCODED_LENGTH = 200;

/** Claude Code's 32-bit string hash (Java's `hashCode`), used for the suffix of over-long folder names. */
function claudePathHash(text: string): string {
  let h = 0;
  for (let i = 0; i < text.length; i++) h = ((h << 5) - h + text.charCodeAt(i)) | 0;
  return Math.abs(h).toString(36);
}

/**
 * The project folder name Claude Code derives from a cwd: every character outside `[a-zA-Z0-9]` becomes `-`
 * (no collapsing, so `C:\` → `C--`). Names longer than 200 characters are cut and get a hash suffix.
 */
export function encodeProjectDir(cwd: string): string {
  const encoded = cwd.replace(/[^a-zA-Z0-9]/g, "-");
  if (encoded.length <= MAX_ENCODED_LENGTH) return encoded;
  return `${encoded.slice(0, MAX_ENCODED_LENGTH)}-${claudePathHash(cwd)}`;
}

/** `<configDir>/projects/<encoded cwd>` */
export function projectDir(configDir: string, cwd: string, os: Os = Deno.build.os): string {
  return joinFor(os)(configDir, "projects", encodeProjectDir(cwd));
}

/** Candidate transcript files, one per config folder, in the order Claude Code would look. */
export function transcriptPaths(
  configDirs: string[],
  cwd: string,
  sessionId: string,
  os: Os = Deno.build.os,
): string[] {
  return configDirs.map((dir) => joinFor(os)(projectDir(dir, cwd, os), `${sessionId}.jsonl`));
}

/** The folder holding a session's subagent transcripts (`<session>/subagents/agent-*.jsonl` in new versions). */
export function sessionSubDirs(
  configDirs: string[],
  cwd: string,
  sessionId: string,
  os: Os = Deno.build.os,
): string[] {
  return configDirs.map((dir) => joinFor(os)(projectDir(dir, cwd, os), sessionId));
}

async function isFile(path: string): Promise<boolean> {
  try {
    return (await Deno.stat(path)).isFile;
  } catch {
    return false;
  }
}

async function walkJsonl(dir: string, out: string[], os: Os): Promise<void> {
  let entries: Deno.DirEntry[];
  try {
    entries = await Array.fromAsync(Deno.readDir(dir));
  } catch {
    return; // missing or unreadable: a session without subagents
  }
  for (const entry of entries) {
    const full = joinFor(os)(dir, entry.name);
    if (entry.isDirectory) await walkJsonl(full, out, os);
    else if (entry.isFile && entry.name.endsWith(".jsonl")) out.push(full);
  }
}

/** Every `*.jsonl` under the session's own folder(s), recursively, sorted; [] when there are none. */
export async function subagentTranscriptPaths(
  configDirs: string[],
  cwd: string,
  sessionId: string,
  os: Os = Deno.build.os,
): Promise<string[]> {
  const out: string[] = [];
  for (const dir of sessionSubDirs(configDirs, cwd, sessionId, os)) await walkJsonl(dir, out, os);
  return out.sort();
}

/** The subagent transcripts beside a known transcript file (`x/<id>.jsonl` → every `.jsonl` under `x/<id>/`). */
export async function subagentPathsOf(transcriptPath: string, os: Os = Deno.build.os): Promise<string[]> {
  const out: string[] = [];
  await walkJsonl(transcriptPath.replace(/\.jsonl$/, ""), out, os);
  return out.sort();
}

/**
 * The transcript of a session that exists on disk, or undefined. The encoded cwd is tried first; then every
 * project folder is scanned for `<sessionId>.jsonl`, because Claude Code sees the OS-resolved cwd (macOS
 * `/tmp` is `/private/tmp`, symlinked checkouts) and may hash long names differently across builds.
 */
export async function findTranscript(
  configDirs: string[],
  cwd: string,
  sessionId: string,
  os: Os = Deno.build.os,
): Promise<string | undefined> {
  for (const path of transcriptPaths(configDirs, cwd, sessionId, os)) {
    if (await isFile(path)) return path;
  }
  for (const dir of configDirs) {
    const projects = joinFor(os)(dir, "projects");
    let entries: Deno.DirEntry[];
    try {
      entries = await Array.fromAsync(Deno.readDir(projects));
    } catch {
      continue;
    }
    for (const entry of entries) {
      if (!entry.isDirectory) continue;
      const path = joinFor(os)(projects, entry.name, `${sessionId}.jsonl`);
      if (await isFile(path)) return path;
    }
  }
  return undefined;
}
