/**
 * How this program runs itself again (to spawn the agent, hook commands, services): a compiled binary is
 * its own executable; under `deno run` it is the deno executable running main.ts with all permissions.
 */

/**
 * V8 flags every stratavore process runs with (build.ts bakes them into the binary). The agent wakes for a
 * moment every heartbeat for hours; V8's memory reducer then runs a full GC after each wake-up, which cost
 * more CPU than the heartbeat itself (bench/agent.ts: 2.5 s → 0.7 s of CPU per hour).
 * `--liftoff-only` keeps WebAssembly (only PGlite uses it) on V8's baseline compiler: the optimised code of
 * PostgreSQL's hot functions was ~25 MB of a PGlite daemon at rest and ~55 MB under load, for ~20 % less CPU
 * per query (bench/footprint.ts, bench/heartbeat.ts; docs/performance.md). At rest on a laptop the memory
 * matters more; a start also compiles in half the CPU.
 */
export const V8_FLAGS = ["--no-memory-reducer", "--liftoff-only"];

function isDenoExecutable(path: string): boolean {
  return /(^|[\\/])deno(\.exe)?$/i.test(path);
}

/**
 * V8 flags of a detached agent (the process the daemon starts for each detached runner), on top of V8_FLAGS.
 * --lite-mode (no optimising compilers, feedback vectors allocated lazily; it implies --jitless, so no
 * WebAssembly, which the agent does not use) took 8–9 MB off its RSS beside a session, ~72 → ~64 MB, with the
 * same CPU per heartbeat and start-up (docs/performance.md, footprint). Not for the daemon (PGlite is
 * WebAssembly) nor the CLI; an interactive `stratavore launch` runs its agent in its own process and keeps
 * that process's flags. --max-semi-space-size=1 and --single-threaded added nothing on top.
 */
export const AGENT_V8_FLAGS = ["--lite-mode"];

/**
 * V8 flags of the daemon under `deno run`, on top of V8_FLAGS (the service definitions and `deno task start`): a young
 * generation of at most 1 MB per semi-space. V8 grows it while the daemon starts (PGlite, migrations) and,
 * without the memory reducer, never shrinks it back: ~161 → ~142 MB for a PGlite daemon at rest
 * (docs/performance.md). Not for the agent or the CLI (the agent's CPU per heartbeat rose with it).
 */
export const DAEMON_V8_FLAGS = ["--max-semi-space-size=1"];

/** A module of this program as `deno run` takes it: a file path (Windows too), or a URL when remote. */
function modulePath(relative: string): string {
  const url = new URL(relative, import.meta.url);
  return url.protocol === "file:"
    ? decodeURIComponent(url.pathname.replace(/^\/([A-Za-z]:)/, "$1"))
    : url.href;
}

/**
 * `deno run` of one of this program's modules, with all permissions and V8_FLAGS plus `extraV8Flags`.
 * `standalone` is for modules that load no npm package when they start (the detached agent, the statusline):
 * they run without the project's deno.json (Deno would find it beside the module and load the workspace,
 * its lockfile and npm resolver: ~1.2 MB of RSS) and without V8's code cache (a SQLite database: ~1.2 MB,
 * for a start-up that compiles ~130 KB of JavaScript once). deno.json stays their import map, so a package
 * they load later (node-pty, ws for a terminal) resolves to the same pinned version, from Deno's cache.
 */
function runModule(relative: string, extraV8Flags: string[] = [], standalone = false): string[] {
  return [
    Deno.execPath(),
    "run",
    "--allow-all",
    "--quiet",
    ...(standalone ? ["--no-config", "--no-code-cache", `--import-map=${modulePath("../deno.json")}`] : []),
    `--v8-flags=${[...V8_FLAGS, ...extraV8Flags].join(",")}`,
    modulePath(relative),
  ];
}

/** Under `deno run` (not a compiled binary, which is its own executable). */
const underDenoRun = () => isDenoExecutable(Deno.execPath());

export function selfCommand(extraV8Flags: string[] = []): string[] {
  return underDenoRun() ? runModule("../main.ts", extraV8Flags) : [Deno.execPath()];
}

/**
 * How the daemon starts a detached runner's agent (lib/detached_agent.ts gives the arguments that follow):
 * under `deno run`, its own module (agent/detached.ts, which loads neither commander nor zod) with
 * AGENT_V8_FLAGS; a compiled binary runs its hidden `detached-agent` command, with the one set of flags it
 * was built with for every role (Deno would read DENO_V8_FLAGS, but the sessions an agent starts could
 * inherit that, and deno programs there would lose their JIT).
 */
export function detachedAgentCommand(): string[] {
  return underDenoRun()
    ? runModule("../agent/detached.ts", AGENT_V8_FLAGS, true)
    : [Deno.execPath(), "detached-agent"];
}

/**
 * How a service runs the daemon: under `deno run`, with DAEMON_V8_FLAGS. A compiled binary runs without them,
 * as its agents do (DENO_V8_FLAGS in the daemon's environment would pass on to the agents it starts).
 */
export function daemonCommand(): string[] {
  return selfCommand(DAEMON_V8_FLAGS);
}

/**
 * The argv of the statusline command for the sessions a runner starts: under `deno run` it runs its own small
 * module (agent/statusline.ts, which loads neither commander nor zod: it runs after every turn); a compiled
 * binary runs its `statusline` command.
 */
export function statuslineArgv(configFile: string): string[] {
  return underDenoRun()
    ? [...runModule("../agent/statusline.ts", [], true), configFile]
    : [Deno.execPath(), "statusline", configFile];
}

/** How to run a PGlite data folder's initdb in a process of its own (lib/db/pglite_init.ts). */
export function pgliteInitArgv(dataDir: string): string[] {
  return underDenoRun()
    ? [...runModule("./db/pglite_init.ts"), dataDir]
    : [Deno.execPath(), "pglite-init", dataDir];
}
