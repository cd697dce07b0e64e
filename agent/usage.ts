/**
 * Follows the transcripts of the sessions a runner writes (main file plus subagent files) and keeps their
 * de-duplicated token totals per (session, model). Totals are cumulative, so reporting them again is
 * harmless: the daemon books only what is new.
 */
import { join } from "../lib/path_join.ts";
import { TranscriptFollower } from "../lib/claude/follow.ts";
import { findTranscript, projectDir, subagentPathsOf, transcriptPaths } from "../lib/claude/paths.ts";

function isFile(path: string): boolean {
  try {
    return Deno.statSync(path).isFile;
  } catch {
    return false;
  }
}
import { UsageAccumulator } from "../lib/claude/transcript.ts";
import type { TokenCounts } from "../lib/schemas/common.ts";
import type { UsageTotal } from "../lib/schemas/runner.ts";

export class UsageTracker {
  readonly #acc = new UsageAccumulator();
  readonly #followers = new Map<string, TranscriptFollower>();
  readonly #sessions = new Map<string, string | undefined>();
  readonly #configDirs: string[];
  readonly #cwd: string;
  readonly #since: number;
  #latest?: string;
  #discover: boolean;
  #polls = 0;
  #grew = true;

  /**
   * discover: the session id is not known up front (`--continue`, the resume picker), so transcripts in
   * the project folder written after `since` are taken as this runner's.
   */
  readonly #resumed: Set<string>;

  /**
   * resumed: sessions continued with --resume; what their transcripts already hold was counted by the
   * runners that wrote it, so following starts at their current end.
   */
  constructor(
    opts: { configDirs: string[]; cwd: string; since?: number; discover?: boolean; resumed?: string[] },
  ) {
    this.#resumed = new Set(opts.resumed ?? []);
    this.#configDirs = opts.configDirs;
    this.#cwd = opts.cwd;
    this.#since = opts.since ?? Date.now();
    this.#discover = opts.discover ?? false;
  }

  watchSession(sessionId: string, transcriptPath?: string): void {
    if (!this.#sessions.has(sessionId) || (transcriptPath && !this.#sessions.get(sessionId))) {
      this.#sessions.set(sessionId, transcriptPath);
      this.#grew = true;
    }
    this.#latest = sessionId;
    this.#discover = false;
  }

  /** The session most recently started or reported. */
  get sessionId(): string | undefined {
    return this.#latest;
  }

  async #discoverSessions(): Promise<void> {
    for (const dir of this.#configDirs) {
      const folder = projectDir(dir, this.#cwd);
      try {
        for await (const e of Deno.readDir(folder)) {
          if (!e.isFile || !e.name.endsWith(".jsonl")) continue;
          const path = join(folder, e.name);
          const stat = await Deno.stat(path);
          // Two seconds of slack for file systems with coarse timestamps.
          if ((stat.mtime?.getTime() ?? 0) >= this.#since - 2000) {
            const id = e.name.slice(0, -".jsonl".length);
            if (!this.#sessions.has(id)) this.#sessions.set(id, path);
            this.#latest ??= id;
          }
        }
      } catch { /* no such folder yet */ }
    }
  }

  #follow(path: string): void {
    if (!this.#followers.has(path)) this.#followers.set(path, new TranscriptFollower(path));
  }

  /**
   * Reads whatever the transcripts gained since the last poll. A session whose transcript is not found yet
   * is looked for at its expected path on every poll, and across all project folders every sixth (or when
   * `thorough`, at the end of a run); subagent files are looked for when a main transcript grew.
   */
  async poll(opts: { thorough?: boolean } = {}): Promise<void> {
    const n = this.#polls++;
    const look = opts.thorough || this.#grew || n % 6 === 0;
    this.#grew = false;
    if (this.#discover && look) await this.#discoverSessions();
    for (const [id, known] of this.#sessions) {
      let path = known;
      if (!path) {
        path = look
          ? await findTranscript(this.#configDirs, this.#cwd, id)
          : transcriptPaths(this.#configDirs, this.#cwd, id).find(isFile);
        if (!path) continue;
        this.#sessions.set(id, path);
      }
      if (!this.#followers.has(path)) {
        this.#grew = true; // read it at once, look for its subagents next time
        this.#follow(path);
        if (this.#resumed.has(id)) this.#followers.get(path)!.skipToEnd();
      }
      if (look) { for (const sub of await subagentPathsOf(path)) this.#follow(sub); }
    }
    const mains = new Set(this.#sessions.values());
    for (const follower of this.#followers.values()) {
      const lines = await follower.poll();
      if (lines.length && mains.has(follower.path)) this.#grew = true;
      for (const line of lines) this.#acc.add(line);
    }
  }

  /** Every session's main transcript found so far. */
  transcripts(): Map<string, string> {
    const out = new Map<string, string>();
    for (const [id, path] of this.#sessions) if (path) out.set(id, path);
    return out;
  }

  totals(): UsageTotal[] {
    return this.#acc.totals().map((t) => ({
      sessionId: t.sessionId,
      model: t.model,
      input: t.input,
      output: t.output,
      cacheCreation: t.cacheCreation,
      cacheCreation1h: t.cacheCreation1h,
      cacheRead: t.cacheRead,
      messages: t.messages,
    })).filter((t) => t.sessionId !== "");
  }

  tokens(): TokenCounts {
    const o = this.#acc.overall();
    return { input: o.input, output: o.output, cacheCreation: o.cacheCreation, cacheRead: o.cacheRead };
  }
}

/** Keeps the (session, model) totals the daemon has not acknowledged yet. */
export class UsageOutbox {
  #acked = new Map<string, string>();

  pending(totals: UsageTotal[]): UsageTotal[] {
    return totals.filter((t) => this.#acked.get(`${t.sessionId}\u0000${t.model}`) !== JSON.stringify(t));
  }

  ack(sent: UsageTotal[] | undefined): void {
    for (const t of sent ?? []) this.#acked.set(`${t.sessionId}\u0000${t.model}`, JSON.stringify(t));
  }
}
