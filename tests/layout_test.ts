/**
 * The direction of dependencies between the roles' folders, and what the agent's process loads at start.
 * lib/ is shared by everyone and imports none of the roles; cli/ sits on top (nothing else imports it); the
 * agent and the daemon do not import each other. The agent runs beside every session all day, so its static
 * module graph (what `stratavore agent` loads before doing anything) holds none of the daemon's packages
 * (docs/performance.md: its RSS).
 */
import { assertEquals } from "./helpers/assert.ts";
import { REPO } from "./helpers/env.ts";

/** Every import specifier in a file: static, `export … from`, and dynamic `import("…")` with a literal. */
function importsOf(text: string): string[] {
  const out: string[] = [];
  for (const m of text.matchAll(/(?:^|\n)\s*(?:import|export)\s[^;]*?from\s*"([^"]+)"/g)) out.push(m[1]);
  for (const m of text.matchAll(/(?:^|\n)\s*import\s*"([^"]+)"/g)) out.push(m[1]);
  for (const m of text.matchAll(/import\(\s*"([^"]+)"\s*\)/g)) out.push(m[1]);
  return out;
}

async function* sources(dir: string): AsyncGenerator<string> {
  for await (const e of Deno.readDir(`${REPO}/${dir}`)) {
    const path = `${dir}/${e.name}`;
    if (e.isDirectory) yield* sources(path);
    else if (/\.tsx?$/.test(e.name) && !e.name.endsWith(".d.ts")) yield path;
  }
}

/** The top-level folder a relative import from `file` lands in. */
function folderOf(file: string, spec: string): string | undefined {
  if (!spec.startsWith(".")) return undefined;
  const parts = file.split("/").slice(0, -1);
  for (const p of spec.split("/")) {
    if (p === "..") parts.pop();
    else if (p !== ".") parts.push(p);
  }
  return parts[0];
}

const FORBIDDEN: Record<string, string[]> = {
  lib: ["cli", "agent", "daemon", "web"],
  agent: ["cli", "daemon", "web"],
  daemon: ["cli", "agent"],
};

Deno.test("layout: lib/ imports no role, the agent and the daemon not each other, nothing imports cli/", async () => {
  const wrong: string[] = [];
  for (const [dir, forbidden] of Object.entries(FORBIDDEN)) {
    for await (const file of sources(dir)) {
      for (const spec of importsOf(await Deno.readTextFile(`${REPO}/${file}`))) {
        const to = folderOf(file, spec);
        if (to && forbidden.includes(to)) wrong.push(`${file} imports ${spec}`);
      }
    }
  }
  assertEquals(wrong, []);
});

interface InfoModule {
  specifier: string;
  kind?: string;
  npmPackage?: string;
  dependencies?: { specifier: string; isDynamic?: boolean; code?: { specifier?: string } }[];
}

/** The daemon's and the web build's packages: none may load with the agent. */
const NOT_IN_AGENT = [
  "hono",
  "postgres",
  "@electric-sql/pglite",
  "prom-client",
  "grammy",
  "amqplib",
  "yaml",
  "esbuild",
  "playwright-core",
  "@lydell/node-pty", // only a terminal session loads it (a dynamic import)
  "ws", // only a terminal session's link loads it (keystrokes need TCP_NODELAY)
  "commander", // main.ts's own, not the agent module's
];

/**
 * Node built-ins the agent does not load: each costs a Deno process RSS (node:crypto ~4 MB, node:path ~1.5),
 * all day beside every session. The agent signs in plain JavaScript (lib/signature.ts) and joins paths with
 * lib/path_join.ts.
 */
const NODE_NOT_IN_AGENT = ["node:crypto", "node:path"];

/**
 * Local files, npm packages and node: built-ins reached from `root` through static imports (dynamic ones load
 * when used).
 */
async function staticGraph(
  root: string,
): Promise<{ local: string[]; packages: string[]; builtins: string[] }> {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["info", "--json", `${REPO}/${root}`],
    cwd: REPO,
    stdout: "piped",
    stderr: "piped",
  }).output();
  assertEquals(out.success, true, new TextDecoder().decode(out.stderr));
  const info = JSON.parse(new TextDecoder().decode(out.stdout)) as {
    roots: string[];
    modules: InfoModule[];
    redirects: Record<string, string>;
  };
  const bySpec = new Map(info.modules.map((m) => [m.specifier, m]));
  const resolve = (s: string) => info.redirects[s] ?? s;
  const seen = new Set<string>();
  const queue = info.roots.map(resolve);
  while (queue.length) {
    const spec = queue.pop()!;
    if (seen.has(spec)) continue;
    seen.add(spec);
    for (const d of bySpec.get(spec)?.dependencies ?? []) {
      if (d.isDynamic || !d.code?.specifier) continue;
      queue.push(resolve(d.code.specifier));
    }
  }
  const base = new URL(`file://${REPO}/`).href;
  return {
    local: [...seen].filter((s) => s.startsWith(base)).map((s) => s.slice(base.length)),
    packages: [...seen].map((s) => bySpec.get(s)?.npmPackage).filter((p): p is string => !!p)
      .map((p) => p.replace(/@[^@]+$/, "")),
    builtins: [...seen].filter((s) => s.startsWith("node:")),
  };
}

Deno.test("layout: the agent's static module graph holds no daemon, CLI or web module and none of their packages", async () => {
  const { local, packages, builtins } = await staticGraph("agent/main.ts");
  assertEquals(local.filter((f) => /^(cli|daemon|web)\//.test(f)), [], "modules of other roles");
  assertEquals(packages.filter((p) => NOT_IN_AGENT.includes(p)), [], "packages the agent does not need");
  assertEquals(
    builtins.filter((b) => NODE_NOT_IN_AGENT.includes(b)),
    [],
    "node built-ins the agent does not need",
  );
  // Loaded at the first heartbeat (lib/client.ts, lib/runner_client.ts), so in every session's agent too.
  const signer = await staticGraph("lib/signature.ts");
  assertEquals(signer.builtins.filter((b) => NODE_NOT_IN_AGENT.includes(b)), [], "the heartbeat signer's");
  // The sanity of the walk itself: the agent's own modules are in it.
  assertEquals(local.includes("agent/main.ts") && local.includes("lib/startup.ts"), true);
});

/** A process that runs a session beside it all day (the detached agent, a session in the foreground). */
async function assertThinAgent(entry: string) {
  const { local, packages, builtins } = await staticGraph(entry);
  // Any npm package costs a Deno process ~10 MB (the npm and Node compatibility layers): zod, commander.
  assertEquals(packages, [], "npm packages");
  assertEquals(builtins.filter((b) => NODE_NOT_IN_AGENT.includes(b)), [], "node built-ins");
  assertEquals(
    local.filter((f) => /^(cli|daemon|web)\//.test(f) || f === "lib/config.ts" || f === "lib/client.ts"),
    [],
    "modules of other roles, the config and the CLI's client",
  );
  // The shapes are lib/schemas' as types only (what the agent reads is checked by hand: runner_client_test).
  assertEquals(local.filter((f) => f.startsWith("lib/schemas/")), [], "schemas loaded at run time");
  assertEquals(
    local.includes("agent/session.ts") && local.includes("lib/runner_client.ts"),
    true,
    "the walk works",
  );
}

Deno.test("layout: a detached agent (agent/detached.ts) loads no npm package, no config and no zod schema", async () => {
  await assertThinAgent("agent/detached.ts");
});

Deno.test("layout: a session in the foreground (main.ts, then agent/foreground.ts) loads what a detached agent loads", async () => {
  await assertThinAgent("agent/foreground.ts");
  // main.ts itself loads the command tree (commander) only for the commands that are not a session.
  const main = await staticGraph("main.ts");
  assertEquals(main.packages, [], "npm packages loaded by main.ts");
  assertEquals(main.local.filter((f) => /^(cli|daemon|agent)\//.test(f)), [], "modules main.ts loads lazily");
});

Deno.test("layout: the daemon loads the PostgreSQL driver, PGlite and amqplib only when it uses them", async () => {
  const { local, packages } = await staticGraph("daemon/main.ts");
  assertEquals(packages.filter((p) => ["postgres", "@electric-sql/pglite", "amqplib"].includes(p)), []);
  assertEquals(local.includes("daemon/outbox/amqp.ts") && packages.includes("hono"), true, "the walk works");
});

Deno.test("layout: the command tree (--help and every command's parse) loads neither zod nor a command's module", async () => {
  const { local, packages } = await staticGraph("cli/program.ts");
  assertEquals(
    packages.filter((p) => p === "zod"),
    [],
    "the settings table builds its rules only when called",
  );
  assertEquals(
    local.filter((f) => /^(cli|daemon|agent)\//.test(f) && f !== "cli/program.ts"),
    [],
    "command modules load lazily",
  );
  assertEquals(
    local.includes("lib/settings.ts") && packages.some((p) => p.includes("commander")),
    true,
    "the walk works",
  );
});
