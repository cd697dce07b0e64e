/**
 * Files in $STRATAVORE_HOME that the daemon writes and the CLI and agent read (daemon.json is
 * lib/daemon_info.ts's: this module loads no zod, as the agent imports it).
 */

const SEP = Deno.build.os === "windows" ? "\\" : "/";

export function homePath(home: string, ...parts: string[]): string {
  return [home.replace(/[\\/]+$/, ""), ...parts].join(SEP);
}

/** homePath with another OS's separator: service files are generated for a target OS (and tested anywhere). */
export function homePathFor(os: string, home: string, ...parts: string[]): string {
  return [home.replace(/[\\/]+$/, ""), ...parts].join(os === "windows" ? "\\" : "/");
}

/** The admin API token, created on first start (mode 0600 where the OS has modes). */
export function ensureApiToken(home: string): string {
  const path = homePath(home, "api-token");
  const existing = readApiToken(home);
  if (existing) return existing;
  const bytes = crypto.getRandomValues(new Uint8Array(32));
  const token = "sv_" + base64url(bytes);
  Deno.writeTextFileSync(path, token + "\n", { mode: 0o600, createNew: false });
  if (Deno.build.os !== "windows") Deno.chmodSync(path, 0o600);
  return token;
}

export function readApiToken(home: string): string | undefined {
  try {
    const t = Deno.readTextFileSync(homePath(home, "api-token")).trim();
    return t || undefined;
  } catch {
    return undefined;
  }
}

export function base64url(bytes: Uint8Array): string {
  let s = "";
  for (const b of bytes) s += String.fromCharCode(b);
  return btoa(s).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}
