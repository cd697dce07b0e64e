/** Driving a real terminal: tmux on a private socket, send-keys in, capture-pane out. */

export interface Tmux {
  send(...keys: string[]): Promise<void>;
  /** The visible screen as text. */
  screen(): Promise<string>;
  waitFor(re: RegExp, timeoutMs?: number): Promise<string>;
  kill(): Promise<void>;
  resize(cols: number, rows: number): Promise<void>;
}

async function run(args: string[]): Promise<string> {
  const out = await new Deno.Command("tmux", { args, stdout: "piped", stderr: "piped" }).output();
  if (!out.success) throw new Error(`tmux ${args.join(" ")}: ${new TextDecoder().decode(out.stderr)}`);
  return new TextDecoder().decode(out.stdout);
}

/** Starts `command` (a shell command line) in a new detached tmux session of the given size. */
export async function startTmux(
  command: string,
  opts: { env?: Record<string, string>; cwd?: string; cols?: number; rows?: number } = {},
): Promise<Tmux> {
  const socket = `stratavore-test-${crypto.randomUUID().slice(0, 8)}`;
  const base = ["-L", socket, "-f", "/dev/null"];
  // Exported in the command itself: tmux's -e does not survive every server/shell setup.
  const exports = Object.entries(opts.env ?? {}).map(([k, v]) =>
    `export ${k}='${v.replaceAll("'", `'\\''`)}';`
  ).join(" ");
  await run([
    ...base,
    "new-session",
    "-d",
    "-s",
    "t",
    "-x",
    String(opts.cols ?? 120),
    "-y",
    String(opts.rows ?? 40),
    ...(opts.cwd ? ["-c", opts.cwd] : []),
    `${exports} ${command}`,
  ]);
  await run([...base, "set-option", "-t", "t", "remain-on-exit", "on"]).catch(() => {});
  const t: Tmux = {
    async send(...keys) {
      await run([...base, "send-keys", "-t", "t", ...keys]);
    },
    async screen() {
      return await run([...base, "capture-pane", "-p", "-t", "t"]);
    },
    async waitFor(re, timeoutMs = 15_000) {
      const deadline = Date.now() + timeoutMs;
      let last = "";
      while (Date.now() < deadline) {
        last = await t.screen().catch(() => last);
        if (re.test(last)) return last;
        await new Promise((r) => setTimeout(r, 100));
      }
      throw new Error(`screen never matched ${re}; it shows:\n${last}`);
    },
    async resize(cols, rows) {
      await run([...base, "resize-window", "-t", "t", "-x", String(cols), "-y", String(rows)]);
    },
    async kill() {
      await run([...base, "kill-server"]).catch(() => {});
    },
  };
  return t;
}
