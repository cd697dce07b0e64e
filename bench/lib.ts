/** Small shared pieces for the benchmarks: percentiles, RSS of a process, formatting. */
import { StratavoreClient } from "../lib/client.ts";

export function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return NaN;
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[i];
}

export function summarize(latenciesMs: number[]): { p50: number; p99: number; max: number } {
  const s = [...latenciesMs].sort((a, b) => a - b);
  return { p50: percentile(s, 50), p99: percentile(s, 99), max: s.at(-1) ?? NaN };
}

/** Resident memory of a process in bytes (Linux /proc; undefined elsewhere). */
export function rssOf(pid: number): number | undefined {
  try {
    const status = Deno.readTextFileSync(`/proc/${pid}/status`);
    const m = /VmRSS:\s+(\d+) kB/.exec(status);
    return m ? Number(m[1]) * 1024 : undefined;
  } catch {
    return undefined;
  }
}

/**
 * What a process costs beyond what it shares (Linux /proc smaps_rollup): its private pages, and its
 * proportional share (PSS) counting each shared page once over the processes that map it. Every `deno`
 * process maps the same executable, so a tenth agent on a machine costs about its private figure, not its RSS.
 */
export function memoryOf(pid: number): { private: number; pss: number } | undefined {
  try {
    const rollup = Deno.readTextFileSync(`/proc/${pid}/smaps_rollup`);
    const kb = (field: string) =>
      Number(new RegExp(`^${field}:\\s+(\\d+) kB`, "m").exec(rollup)?.[1] ?? 0) * 1024;
    return { private: kb("Private_Clean") + kb("Private_Dirty"), pss: kb("Pss") };
  } catch {
    return undefined;
  }
}

/** User+system CPU seconds a process has used (Linux /proc). */
export function cpuSecondsOf(pid: number): number | undefined {
  try {
    const stat = Deno.readTextFileSync(`/proc/${pid}/stat`);
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    const ticks = Number(fields[11]) + Number(fields[12]);
    return ticks / 100;
  } catch {
    return undefined;
  }
}

export const mb = (
  bytes: number | undefined,
) => (bytes === undefined ? "n/a" : `${(bytes / 1048576).toFixed(1)} MB`);
export const ms = (v: number) => `${v.toFixed(2)} ms`;

export function table(headers: string[], rows: (string | number)[][]): string {
  const cells = [headers, ...rows.map((r) => r.map(String))];
  const widths = headers.map((_, i) => Math.max(...cells.map((r) => r[i].length)));
  return cells.map((r) => r.map((c, i) => c.padEnd(widths[i])).join("  ")).join("\n");
}

/** Runs `count` tasks with at most `concurrency` at once. */
export async function pool<T>(
  count: number,
  concurrency: number,
  task: (i: number) => Promise<T>,
): Promise<T[]> {
  const out: T[] = new Array(count);
  let next = 0;
  await Promise.all(Array.from({ length: Math.min(concurrency, count) }, async () => {
    while (next < count) {
      const i = next++;
      out[i] = await task(i);
    }
  }));
  return out;
}

/** CPU seconds used so far by every process whose command name is `name` (e.g. "postgres"). */
export function cpuSecondsOfAll(name: string): number {
  let total = 0;
  for (const e of Deno.readDirSync("/proc")) {
    if (!/^\d+$/.test(e.name)) continue;
    try {
      if (Deno.readTextFileSync(`/proc/${e.name}/comm`).trim() !== name) continue;
      total += cpuSecondsOf(Number(e.name)) ?? 0;
    } catch { /* exited */ }
  }
  return total;
}

/** CPU seconds of every thread of a process, in nanosecond precision (Linux schedstat). */
export function preciseCpuSecondsOf(pid: number): number | undefined {
  try {
    let ns = 0;
    for (const t of Deno.readDirSync(`/proc/${pid}/task`)) {
      try {
        ns += Number(Deno.readTextFileSync(`/proc/${pid}/task/${t.name}/schedstat`).split(" ")[0]);
      } catch { /* thread ended */ }
    }
    return ns / 1e9;
  } catch {
    return cpuSecondsOf(pid);
  }
}

export interface DriveResult {
  count: number;
  errors: number;
  p50: number;
  p99: number;
  max: number;
  /** Operations per second. */
  rate: number;
  /** The daemon's CPU time per operation, when its pid was given. */
  cpuMs: number;
}

/**
 * Runs `op` from `concurrency` loops for `seconds`, timing each call: latency percentiles, rate, errors
 * (the first one printed), and the CPU the daemon spent per call when `daemonPid` is given.
 */
export async function drive(
  seconds: number,
  opts: { concurrency: number; daemonPid?: number },
  op: (i: number) => Promise<void>,
): Promise<DriveResult> {
  const lat: number[] = [];
  let errors = 0;
  let firstError: string | undefined;
  let n = 0;
  const cpu0 = opts.daemonPid === undefined ? 0 : cpuSecondsOf(opts.daemonPid) ?? 0;
  const end = performance.now() + seconds * 1000;
  await Promise.all(Array.from({ length: opts.concurrency }, async () => {
    while (performance.now() < end) {
      const i = n++;
      const t = performance.now();
      try {
        await op(i);
        lat.push(performance.now() - t);
      } catch (e) {
        errors++;
        firstError ??= (e as Error).message;
      }
    }
  }));
  if (firstError) console.error(`  first error: ${firstError}`);
  const cpu = opts.daemonPid === undefined ? 0 : (cpuSecondsOf(opts.daemonPid) ?? 0) - cpu0;
  return {
    count: lat.length,
    errors,
    ...summarize(lat),
    rate: lat.length / seconds,
    cpuMs: lat.length ? cpu * 1000 / lat.length : 0,
  };
}

/**
 * A project "bench" and one runner of it that its "agent" has reported started (no process behind it): what
 * the benchmarks of reports a running session sends (hooks, statusline) post against.
 */
export async function startedRunner(
  daemon: { url: string; token: string },
): Promise<{ admin: StratavoreClient; runnerId: number; token: string }> {
  const admin = new StratavoreClient({ url: daemon.url, token: daemon.token });
  await admin.createProject({ name: "bench", path: "/tmp" });
  const { runner, token } = await admin.launch({ project: "bench" });
  await admin.withToken(token).started(runner.id, { pid: 1, host: "bench" });
  return { admin, runnerId: runner.id, token };
}

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** One keep-alive HTTP/1.1 connection, one request at a time; answers must carry a Content-Length. */
class RawConnection {
  #conn: Deno.TcpConn;
  #buf = new Uint8Array(16 * 1024);
  #len = 0;

  constructor(conn: Deno.TcpConn) {
    this.#conn = conn;
  }

  async #fill(): Promise<void> {
    if (this.#len === this.#buf.length) {
      const bigger = new Uint8Array(this.#buf.length * 2);
      bigger.set(this.#buf);
      this.#buf = bigger;
    }
    const n = await this.#conn.read(this.#buf.subarray(this.#len));
    if (n === null) throw new Error("the server closed the connection");
    this.#len += n;
  }

  async request(head: string, body: Uint8Array): Promise<{ status: number; body: string }> {
    const h = encoder.encode(head);
    const out = new Uint8Array(h.length + body.length);
    out.set(h);
    out.set(body, h.length);
    for (let at = 0; at < out.length;) at += await this.#conn.write(out.subarray(at));
    // The answer's head ends at the first CRLFCRLF.
    let end = -1;
    for (let from = 0;;) {
      const b = this.#buf;
      for (let i = from; i + 3 < this.#len && end < 0; i++) {
        if (b[i] === 13 && b[i + 1] === 10 && b[i + 2] === 13 && b[i + 3] === 10) end = i;
      }
      if (end >= 0) break;
      from = Math.max(0, this.#len - 3);
      await this.#fill();
    }
    const headers = decoder.decode(this.#buf.subarray(0, end));
    const length = /\r\ncontent-length:\s*(\d+)/i.exec(headers);
    if (!length) throw new Error(`an answer without Content-Length: ${headers.slice(0, 200)}`);
    const need = end + 4 + Number(length[1]);
    while (this.#len < need) await this.#fill();
    const text = decoder.decode(this.#buf.subarray(end + 4, need));
    this.#buf.copyWithin(0, need, this.#len);
    this.#len -= need;
    return { status: Number(headers.slice(9, 12)), body: text };
  }

  close(): void {
    this.#conn.close();
  }
}

/**
 * A load generator's HTTP client: keep-alive HTTP/1.1 over plain sockets. Deno's fetch costs the generator
 * about twice the CPU per request that postgres.js costs per query, and the generator shares the machine
 * with what it measures (bench/heartbeat.ts compares the API with a postgres.js baseline).
 */
export class RawHttpClient {
  #host: string;
  #port: number;
  #idle: RawConnection[] = [];

  constructor(url: string) {
    const u = new URL(url);
    this.#host = u.hostname;
    this.#port = Number(u.port);
  }

  async post(
    path: string,
    headers: Record<string, string>,
    body: string,
  ): Promise<{ status: number; body: string }> {
    const bytes = encoder.encode(body);
    let head =
      `POST ${path} HTTP/1.1\r\nhost: ${this.#host}:${this.#port}\r\ncontent-length: ${bytes.length}\r\n`;
    for (const k in headers) head += `${k}: ${headers[k]}\r\n`;
    head += "\r\n";
    const conn = this.#idle.pop() ??
      new RawConnection(await Deno.connect({ hostname: this.#host, port: this.#port }));
    try {
      const answer = await conn.request(head, bytes);
      this.#idle.push(conn);
      return answer;
    } catch (e) {
      conn.close();
      throw e;
    }
  }

  close(): void {
    for (const c of this.#idle.splice(0)) c.close();
  }
}
