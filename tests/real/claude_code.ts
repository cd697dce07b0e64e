/**
 * The real Claude Code for the real-client test tier: one pinned version (here, and only here), installed
 * from npm into a cache folder shared by test runs, run offline against the Messages API stand-in.
 */
import { CI } from "../helpers/env.ts";

/** The Claude Code version the real-client tier runs. Bump it here; the price test says what changed. */
export const CLAUDE_CODE_VERSION = "2.1.328";
/** ccusage, the reference for token counts from transcripts (20.0.26 has no linux-x64 binary on npm). */
export const CCUSAGE_VERSION = "20.0.24";

const cacheRoot = Deno.env.get("STRATAVORE_TEST_CACHE") ??
  `${Deno.env.get("XDG_CACHE_HOME") ?? `${Deno.env.get("HOME") ?? "/tmp"}/.cache`}/stratavore-test`;

/** Where the pinned Claude Code is installed, and a bin folder whose `claude` is it (first on PATH). */
export const CLAUDE_CODE_DIR = `${cacheRoot}/claude-code-${CLAUDE_CODE_VERSION}`;
export const CLAUDE_BIN_DIR = `${CLAUDE_CODE_DIR}/bin`;

async function versionOf(bin: string): Promise<string | undefined> {
  try {
    const out = await new Deno.Command(bin, { args: ["--version"], stdout: "piped", stderr: "null" })
      .output();
    return out.success ? new TextDecoder().decode(out.stdout).trim() : undefined;
  } catch {
    return undefined;
  }
}

interface NpmTool {
  pkg: string;
  version: string;
  /** The command the package installs. */
  bin: string;
  dir: string;
}

const installs = new Map<string, Promise<string>>();

/**
 * Installs a pinned npm package once (later runs reuse the cache folder) and returns the path of its
 * command, linked as `<dir>/bin/<bin>`. Concurrent test processes serialise on a lock folder.
 */
function ensureNpmTool(t: NpmTool): Promise<string> {
  const key = `${t.pkg}@${t.version}`;
  if (!installs.has(key)) installs.set(key, install(t));
  return installs.get(key)!;
}

async function install(t: NpmTool): Promise<string> {
  const bin = `${t.dir}/bin/${t.bin}`;
  const ready = async () => (await versionOf(bin))?.includes(t.version) ?? false;
  if (await ready()) return bin;
  await Deno.mkdir(cacheRoot, { recursive: true });
  const lock = `${t.dir}.lock`;
  const deadline = Date.now() + 300_000;
  for (;;) {
    try {
      await Deno.mkdir(lock);
      break;
    } catch {
      if (await ready()) return bin;
      // A lock left by a killed run is older than any real install.
      const age = Date.now() - ((await Deno.stat(lock).catch(() => null))?.mtime?.getTime() ?? Date.now());
      if (age > 300_000) await Deno.remove(lock, { recursive: true }).catch(() => {});
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${lock}`);
      await new Promise((r) => setTimeout(r, 500));
    }
  }
  try {
    const out = await new Deno.Command("npm", {
      args: ["install", "--prefix", t.dir, "--no-audit", "--no-fund", "--no-save", `${t.pkg}@${t.version}`],
      stdout: "piped",
      stderr: "piped",
    }).output();
    if (!out.success) {
      throw new Error(`npm install ${t.pkg}@${t.version} failed:\n${new TextDecoder().decode(out.stderr)}`);
    }
    await Deno.mkdir(`${t.dir}/bin`, { recursive: true });
    await Deno.remove(bin).catch(() => {});
    await Deno.symlink(`${t.dir}/node_modules/.bin/${t.bin}`, bin);
    if (!await ready()) throw new Error(`the installed ${t.bin} does not report version ${t.version}`);
    return bin;
  } finally {
    await Deno.remove(lock, { recursive: true }).catch(() => {});
  }
}

/** The pinned Claude Code's `claude`. */
export function ensureClaudeCode(): Promise<string> {
  return ensureNpmTool({
    pkg: "@anthropic-ai/claude-code",
    version: CLAUDE_CODE_VERSION,
    bin: "claude",
    dir: CLAUDE_CODE_DIR,
  });
}

/** The pinned ccusage's command. */
export function ensureCcusage(): Promise<string> {
  return ensureNpmTool({
    pkg: "ccusage",
    version: CCUSAGE_VERSION,
    bin: "ccusage",
    dir: `${cacheRoot}/ccusage-${CCUSAGE_VERSION}`,
  });
}

/** Token totals per session as ccusage counts them from the transcripts under `configDir`. */
export async function ccusageSessions(
  configDir: string,
): Promise<Map<string, { input: number; output: number; cacheCreation: number; cacheRead: number }>> {
  const bin = await ensureCcusage();
  const out = await new Deno.Command(bin, {
    args: ["session", "--json", "--offline"],
    env: {
      CLAUDE_CONFIG_DIR: configDir,
      PATH: Deno.env.get("PATH") ?? "",
      HOME: Deno.env.get("HOME") ?? "/tmp",
    },
    clearEnv: true,
    stdout: "piped",
    stderr: "piped",
  }).output();
  if (!out.success) throw new Error(`ccusage failed: ${new TextDecoder().decode(out.stderr)}`);
  const data = JSON.parse(new TextDecoder().decode(out.stdout)) as {
    session: {
      period: string;
      inputTokens: number;
      outputTokens: number;
      cacheCreationTokens: number;
      cacheReadTokens: number;
    }[];
  };
  return new Map(data.session.map((s) => [s.period, {
    input: s.inputTokens,
    output: s.outputTokens,
    cacheCreation: s.cacheCreationTokens,
    cacheRead: s.cacheReadTokens,
  }]));
}

/**
 * Whether the real-client tests run: always with CI=true (a failed install then fails them), otherwise when
 * the pinned version is installed or can be (the npm registry answers).
 */
export const SKIP_REAL = !CI && Deno.env.get("STRATAVORE_TEST_REAL") === "0";

export interface ClaudeEnvOptions {
  /** The Messages API stand-in's URL. */
  apiUrl: string;
  /** A fresh CLAUDE_CONFIG_DIR for this test. */
  configDir: string;
  /** As a Claude.ai subscriber (OAuth token) rather than with an API key. */
  subscriber?: boolean;
}

export const TEST_API_KEY = "sk-ant-api03-stratavore-test-key-0000000000000000000000000000000000000000000000";

/** Environment for running the real claude offline against the stand-in. */
export function claudeEnv(o: ClaudeEnvOptions): Record<string, string> {
  return {
    ANTHROPIC_BASE_URL: o.apiUrl,
    ...(o.subscriber
      ? { CLAUDE_CODE_OAUTH_TOKEN: "sk-ant-oat01-stratavore-test" }
      : { ANTHROPIC_API_KEY: TEST_API_KEY }),
    CLAUDE_CONFIG_DIR: o.configDir,
    DISABLE_AUTOUPDATER: "1",
    CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC: "1",
    DISABLE_ERROR_REPORTING: "1",
  };
}

/**
 * Writes the state that skips the interactive onboarding (which checks connectivity to Anthropic and exits
 * offline) and trusts the given folders.
 */
export async function prepareConfigDir(configDir: string, folders: string[]): Promise<void> {
  await Deno.mkdir(configDir, { recursive: true });
  const projects: Record<string, unknown> = {};
  for (const f of folders) {
    projects[f] = { hasTrustDialogAccepted: true, hasCompletedProjectOnboarding: true, allowedTools: [] };
  }
  await Deno.writeTextFile(
    `${configDir}/.claude.json`,
    JSON.stringify({
      hasCompletedOnboarding: true,
      theme: "dark",
      customApiKeyResponses: { approved: [TEST_API_KEY, TEST_API_KEY.slice(-20)], rejected: [] },
      projects,
    }),
  );
}
