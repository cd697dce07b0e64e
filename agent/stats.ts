/**
 * CPU time and resident memory of a process and all its descendants: Linux reads /proc, macOS asks `ps`;
 * elsewhere (Windows) the figures are unknown and reported as null rather than guessed.
 */

export interface TreeSample {
  cpuSeconds: number;
  rssBytes: number;
  pids: number[];
}

interface Proc {
  pid: number;
  ppid: number;
  cpuSeconds: number;
  rssBytes: number;
}

const PAGE = 4096;
const TICKS = 100;

function linuxProc(pid: number): Proc | undefined {
  try {
    const stat = Deno.readTextFileSync(`/proc/${pid}/stat`);
    // The command name may contain spaces and parentheses; fields start after the last ")".
    const f = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    return {
      pid,
      ppid: Number(f[1]),
      // utime + stime + cutime + cstime: children that already exited and were reaped still count, so
      // summing over the live tree counts every process that ever ran in it exactly once.
      cpuSeconds: (Number(f[11]) + Number(f[12]) + Number(f[13]) + Number(f[14])) / TICKS,
      rssBytes: Number(f[21]) * PAGE,
    };
  } catch {
    return undefined; // exited while we looked
  }
}

function linuxProcs(): Proc[] {
  const out: Proc[] = [];
  for (const e of Deno.readDirSync("/proc")) {
    if (!/^\d+$/.test(e.name)) continue;
    const p = linuxProc(Number(e.name));
    if (p) out.push(p);
  }
  return out;
}

/** `ps` TIME looks like [[dd-]hh:]mm:ss[.cc]. */
export function parsePsTime(t: string): number {
  const [days, rest] = t.includes("-") ? t.split("-") : ["0", t];
  const parts = rest.split(":").map(Number);
  let s = 0;
  for (const p of parts) s = s * 60 + p;
  return Number(days) * 86400 + s;
}

async function macProcs(): Promise<Proc[]> {
  const out = await new Deno.Command("ps", {
    args: ["-A", "-o", "pid=,ppid=,rss=,time="],
    stdout: "piped",
    stderr: "null",
  })
    .output();
  return new TextDecoder().decode(out.stdout).split("\n").filter((l) => l.trim()).map((l) => {
    const [pid, ppid, rss, time] = l.trim().split(/\s+/);
    return {
      pid: Number(pid),
      ppid: Number(ppid),
      rssBytes: Number(rss) * 1024,
      cpuSeconds: parsePsTime(time),
    };
  });
}

export function descendants(procs: Proc[], root: number): Proc[] {
  const children = new Map<number, Proc[]>();
  for (const p of procs) {
    const list = children.get(p.ppid) ?? [];
    list.push(p);
    children.set(p.ppid, list);
  }
  const byPid = new Map(procs.map((p) => [p.pid, p]));
  const out: Proc[] = [];
  const stack = byPid.has(root) ? [byPid.get(root)!] : [];
  const seen = new Set<number>();
  while (stack.length) {
    const p = stack.pop()!;
    if (seen.has(p.pid)) continue;
    seen.add(p.pid);
    out.push(p);
    stack.push(...(children.get(p.pid) ?? []));
  }
  return out;
}

export async function processTree(root: number, os = Deno.build.os): Promise<TreeSample | null> {
  let procs: Proc[];
  try {
    if (os === "linux") procs = linuxProcs();
    else if (os === "darwin") procs = await macProcs();
    else return null;
  } catch {
    return null;
  }
  const tree = descendants(procs, root);
  if (tree.length === 0) return null;
  return {
    cpuSeconds: tree.reduce((s, p) => s + p.cpuSeconds, 0),
    rssBytes: tree.reduce((s, p) => s + p.rssBytes, 0),
    pids: tree.map((p) => p.pid),
  };
}

/**
 * Samples a tree cheaply on Linux: a full /proc scan (every process) only every `fullEvery` samples or
 * when a known process is gone; in between only the known members are read. New processes may be missed
 * until the next full scan (their CPU is not lost: it reaches a parent's cutime when they exit).
 */
export class TreeSampler {
  #root: number;
  #known: number[] = [];
  #count = 0;
  #fullEvery: number;

  constructor(root: number, fullEvery = 12) {
    this.#root = root;
    this.#fullEvery = fullEvery;
  }

  async sample(): Promise<TreeSample | null> {
    if (Deno.build.os !== "linux" || this.#known.length === 0 || this.#count++ % this.#fullEvery === 0) {
      const s = await processTree(this.#root);
      this.#known = s?.pids ?? [];
      return s;
    }
    const procs = this.#known.map(linuxProc);
    if (procs.some((p) => !p)) {
      this.#count = 1;
      const s = await processTree(this.#root);
      this.#known = s?.pids ?? [];
      return s;
    }
    const live = procs as Proc[];
    return {
      cpuSeconds: live.reduce((sum, p) => sum + p.cpuSeconds, 0),
      rssBytes: live.reduce((sum, p) => sum + p.rssBytes, 0),
      pids: this.#known,
    };
  }
}

/** Turns successive samples into CPU % (100 = one core busy) and RSS. */
export class CpuMeter {
  #last?: { at: number; cpu: number };

  update(
    sample: TreeSample | null,
    now = performance.now(),
  ): { cpuPercent: number | null; rssBytes: number | null } {
    if (!sample) return { cpuPercent: null, rssBytes: null };
    const last = this.#last;
    this.#last = { at: now, cpu: sample.cpuSeconds };
    if (!last || now <= last.at) return { cpuPercent: null, rssBytes: sample.rssBytes };
    const pct = Math.max(0, ((sample.cpuSeconds - last.cpu) / ((now - last.at) / 1000)) * 100);
    return { cpuPercent: Math.round(pct * 10) / 10, rssBytes: sample.rssBytes };
  }
}
