/**
 * The environment a session (and a detached agent) starts with: an allowlist of what programs need (paths,
 * locale, terminal, proxies, Claude Code's and its providers' settings) plus the names the user lists in
 * `sessionEnv` (STRATAVORE_SESSION_ENV, globs such as `GITHUB_TOKEN,NPM_*`). Everything else stays out,
 * and secret settings never pass, whatever the lists say: the daemon's environment holds the Telegram bot
 * token and database and broker URLs with passwords, and a session runs code a prompt can steer.
 */
import { SETTINGS } from "./settings.ts";
import { globMatch } from "./glob.ts";

/** Names (or `*` globs) every session gets when the starting process has them. */
export const SESSION_ENV_ALLOW = [
  // The basics of a POSIX login.
  "PATH",
  "HOME",
  "USER",
  "LOGNAME",
  "SHELL",
  "TERM",
  "COLORTERM",
  "TERM_PROGRAM",
  "TERM_PROGRAM_VERSION",
  "LANG",
  "LANGUAGE",
  "LC_*",
  "TZ",
  "TMPDIR",
  "XDG_*",
  "DISPLAY",
  "WAYLAND_DISPLAY",
  "SSH_AUTH_SOCK",
  "EDITOR",
  "VISUAL",
  "PAGER",
  "NO_COLOR",
  "FORCE_COLOR",
  // Proxies and certificates (a corporate network needs them to reach the API).
  "HTTP_PROXY",
  "HTTPS_PROXY",
  "NO_PROXY",
  "ALL_PROXY",
  "SSL_CERT_FILE",
  "SSL_CERT_DIR",
  "NODE_EXTRA_CA_CERTS",
  // Claude Code and the providers it can use.
  "ANTHROPIC_*",
  "CLAUDE_*",
  "CLAUDECODE",
  "DISABLE_*",
  "MCP_*",
  "MAX_THINKING_TOKENS",
  "BASH_*",
  "OTEL_*",
  "AWS_*",
  "GOOGLE_*",
  "GCLOUD_*",
  "CLOUD_ML_REGION",
  "VERTEX_*",
  "BEDROCK_*",
  // git in the project.
  "GIT_*",
  // Windows: what programs there cannot start without.
  "SYSTEMROOT",
  "SYSTEMDRIVE",
  "WINDIR",
  "COMSPEC",
  "PATHEXT",
  "APPDATA",
  "LOCALAPPDATA",
  "USERPROFILE",
  "HOMEDRIVE",
  "HOMEPATH",
  "PROGRAMDATA",
  "PROGRAMFILES",
  "PROGRAMFILES(X86)",
  "PROGRAMW6432",
  "COMMONPROGRAMFILES",
  "COMMONPROGRAMFILES(X86)",
  "NUMBER_OF_PROCESSORS",
  "PROCESSOR_ARCHITECTURE",
  "OS",
  "USERNAME",
  "USERDOMAIN",
  "COMPUTERNAME",
  "TEMP",
  "TMP",
  // Stratavore's own non-secret settings (a detached agent reads its settings from them).
  "STRATAVORE_*",
];

/** The runner's token: the agent's only, passed to it alone (the session's hooks carry it in a file). */
export const RUNNER_TOKEN_ENV = "STRATAVORE_RUNNER_TOKEN";

/** Names that never pass: every secret setting, the runner token, the Telegram settings. */
export function secretEnvNames(): Set<string> {
  const names = new Set<string>([RUNNER_TOKEN_ENV, "STRATAVORE_TOKEN"]);
  for (const meta of Object.values(SETTINGS) as { env?: string; secret?: string }[]) {
    if (meta.secret && meta.env) names.add(meta.env);
    if (meta.env?.startsWith("TELEGRAM_")) names.add(meta.env);
  }
  return names;
}

/** `sessionEnv` as a list of names or globs (already validated by the config schema). */
export function parseEnvList(spec: string | undefined): string[] {
  return (spec ?? "").split(",").map((s) => s.trim()).filter(Boolean);
}

/**
 * The allowed part of `parent`. Names compare case-insensitively on Windows (its environment does), exactly
 * elsewhere; patterns are matched upper-cased there.
 */
export function sessionEnvironment(
  parent: Record<string, string>,
  extra: string[] = [],
  os: string = Deno.build.os,
): Record<string, string> {
  const fold = os === "windows" ? (s: string) => s.toUpperCase() : (s: string) => s;
  const patterns = [...SESSION_ENV_ALLOW, ...extra].map(fold);
  const secret = new Set([...secretEnvNames()].map(fold));
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(parent)) {
    const key = fold(name);
    if (secret.has(key)) continue;
    // Lower-case proxy variables are as common as upper-case ones.
    const probe = /_proxy$/i.test(name) ? key.toUpperCase() : key;
    if (patterns.some((p) => globMatch(p, probe))) out[name] = value;
  }
  return out;
}
