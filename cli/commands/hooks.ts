/**
 * `stratavore hooks install|uninstall|status`: every Claude session on this machine reported to the daemon.
 * `install` adds Stratavore's http hooks (and, unless you export Claude Code's telemetry yourself, its
 * telemetry settings) to your user settings ($CLAUDE_CONFIG_DIR or ~/.claude/settings.json), keeping
 * everything of yours, after a backup, printing what it added; running it again replaces only its own
 * entries. `uninstall` puts back exactly what was there (the backup, when the file is still as install left
 * it; otherwise it takes out only Stratavore's entries) and revokes the token.
 */
import { AppError } from "../../lib/errors.ts";
import { claudeConfigDirs } from "../../lib/claude/paths.ts";
import {
  HTTP_HOOK_EVENTS,
  OBSERVED_HOOK_PATH,
  observerHookSettings,
  quotePosix,
} from "../../lib/claude/hooks.ts";
import { statuslineArgv } from "../../lib/self.ts";
import { telemetryEnv, userTelemetry } from "../../lib/claude/telemetry.ts";
import { homePath } from "../../lib/home.ts";
import { z } from "zod";
import { connect } from "../connect.ts";
import { contextFrom, type GlobalOptions } from "../../lib/startup.ts";
import { printJson, renderFields } from "../render/format.ts";

export interface HooksOptions extends GlobalOptions {
  settings?: string;
  /** Leave Claude Code's telemetry settings alone (hooks only). */
  telemetry?: boolean;
}

/** What install did, kept in $STRATAVORE_HOME so uninstall can undo exactly that. */
const record = z.object({
  settingsPath: z.string(),
  /** The file before install; null when there was none. */
  backupPath: z.string().nullable(),
  /** The text install wrote, to tell whether the file was changed since. */
  written: z.string(),
  token: z.string(),
  url: z.string(),
  envKeys: z.array(z.string()),
  installedAt: z.string(),
  /** The user's own statusLine that Stratavore's wraps (null: none). */
  userStatusLine: z.unknown().optional(),
});
type InstallRecord = z.infer<typeof record>;

type Json = Record<string, unknown>;

function settingsPathOf(opts: HooksOptions): string {
  if (opts.settings) return opts.settings;
  const env = Deno.env.toObject();
  const home = env.HOME ?? env.USERPROFILE ?? ".";
  return `${claudeConfigDirs(env, home)[0]}/settings.json`;
}

async function readJson(path: string): Promise<{ text: string | null; data: Json }> {
  let text: string;
  try {
    text = await Deno.readTextFile(path);
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return { text: null, data: {} };
    throw new AppError("failed", `cannot read ${path}: ${(e as Error).message}`);
  }
  try {
    const data = text.trim() ? JSON.parse(text) : {};
    if (!data || typeof data !== "object" || Array.isArray(data)) throw new Error("not an object");
    return { text, data };
  } catch (e) {
    throw new AppError(
      "failed",
      `${path} is not a JSON object (${(e as Error).message}): fix it first; nothing was changed`,
    );
  }
}

const isOurs = (group: unknown) => JSON.stringify(group ?? {}).includes(OBSERVED_HOOK_PATH);

/** The config of the statusline observed sessions run (in $STRATAVORE_HOME: it holds the observer token). */
const OBSERVED_STATUSLINE = "observed-statusline.json";
const isOurStatusLine = (v: unknown) => JSON.stringify(v ?? "").includes(OBSERVED_STATUSLINE);

/**
 * The settings without any Stratavore hook (from an earlier install), without our env keys, and with the
 * user's own statusLine back in place of ours.
 */
function withoutOurs(
  data: Json,
  envKeys: string[],
  ourEnv?: Record<string, string>,
  userLine?: unknown,
): Json {
  const out: Json = structuredClone(data);
  if (isOurStatusLine(out.statusLine)) {
    if (userLine) out.statusLine = userLine;
    else delete out.statusLine;
  }
  const hooks = out.hooks as Record<string, unknown[]> | undefined;
  if (hooks && typeof hooks === "object") {
    for (const [event, groups] of Object.entries(hooks)) {
      if (!Array.isArray(groups)) continue;
      const kept = groups.filter((g) => !isOurs(g));
      if (kept.length) hooks[event] = kept;
      else delete hooks[event];
    }
    if (Object.keys(hooks).length === 0) delete out.hooks;
  }
  const env = out.env as Record<string, string> | undefined;
  if (env && typeof env === "object") {
    for (const k of envKeys) if (!ourEnv || env[k] === ourEnv[k]) delete env[k];
    if (Object.keys(env).length === 0) delete out.env;
  }
  return out;
}

function describe(added: Json): string[] {
  const lines: string[] = [];
  for (
    const [event, groups] of Object.entries(
      (added.hooks ?? {}) as Record<string, { hooks: { url: string }[] }[]>,
    )
  ) {
    lines.push(`+ hooks.${event}: http POST ${groups[0].hooks[0].url}`);
  }
  for (const [k, v] of Object.entries((added.env ?? {}) as Record<string, string>)) {
    lines.push(`+ env.${k} = ${k === "OTEL_EXPORTER_OTLP_HEADERS" ? "Authorization=Bearer svo_…" : v}`);
  }
  return lines;
}

async function writePrivate(path: string, text: string): Promise<void> {
  const dir = path.replace(/[\\/][^\\/]*$/, "");
  if (dir && dir !== path) await Deno.mkdir(dir, { recursive: true });
  const tmp = `${path}.stratavore-${crypto.randomUUID().slice(0, 8)}`;
  await Deno.writeTextFile(tmp, text, { mode: 0o600 });
  await Deno.rename(tmp, path); // never a half-written settings file
}

export async function hooksInstallCommand(opts: HooksOptions): Promise<void> {
  const ctx = contextFrom(opts);
  const config = ctx.loaded.config;
  const path = settingsPathOf(opts);
  const recordPath = homePath(config.home, "hooks-install.json");
  const previous = await readRecord(recordPath);
  const { text, data } = await readJson(path);
  const client = await connect(ctx);
  const { token } = await client.observerToken();
  const base = withoutOurs(data, previous?.envKeys ?? [], undefined, previous?.userStatusLine);
  const hooks = observerHookSettings({ url: client.url, token, permissionTimeoutS: 86_400 }).hooks;
  // Your own telemetry exporter stays yours: then only the hooks are added.
  const own = opts.telemetry === false
    ? { endpoint: "(--no-telemetry)" }
    : userTelemetry(Deno.env.toObject(), [(base.env ?? {}) as Record<string, unknown>]);
  const env = own
    ? {}
    : withoutRunner(telemetryEnv({ url: client.url, runnerId: 0, token, intervalMs: 5000 }));
  const merged: Json = structuredClone(base);
  const mergedHooks = (merged.hooks ??= {}) as Record<string, unknown[]>;
  for (const event of HTTP_HOOK_EVENTS) mergedHooks[event] = [...(mergedHooks[event] ?? []), ...hooks[event]];
  if (Object.keys(env).length) merged.env = { ...(merged.env as Json ?? {}), ...env };
  // The statusline reports the subscription windows of interactive sessions and prints the user's own.
  const userLine = (base.statusLine ?? null) as Json | null;
  const statusConfig = homePath(config.home, OBSERVED_STATUSLINE);
  await writePrivate(
    statusConfig,
    JSON.stringify({
      url: client.url,
      token,
      ...(userLine?.type === "command" && typeof userLine.command === "string"
        ? { command: userLine.command }
        : {}),
    }),
  );
  merged.statusLine = {
    type: "command",
    command: statuslineArgv(statusConfig).map((a) => quotePosix(a.replaceAll("\\", "/"))).join(" "),
    ...(typeof userLine?.padding === "number" ? { padding: userLine.padding } : {}),
  };
  const written = JSON.stringify(merged, null, 2) + "\n";

  let backupPath = previous?.backupPath ?? null;
  if (!previous && text !== null) {
    backupPath = `${path}.stratavore-backup-${new Date().toISOString().replace(/[:.]/g, "-")}`;
    await Deno.writeTextFile(backupPath, text, { mode: 0o600 });
  }
  await writePrivate(path, written);
  if (previous && previous.token !== token) await client.revokeObserverToken(previous.token).catch(() => {});
  const rec: InstallRecord = {
    settingsPath: path,
    backupPath,
    written,
    token,
    url: client.url,
    envKeys: Object.keys(env),
    installedAt: new Date().toISOString(),
    userStatusLine: userLine,
  };
  await writePrivate(recordPath, JSON.stringify(rec, null, 2) + "\n");
  if (ctx.json) return printJson({ settingsPath: path, backupPath, telemetry: own ? "yours" : "stratavore" });
  console.log(`${previous ? "updated" : "installed"} Stratavore's hooks in ${path}`);
  if (backupPath) console.log(`backup of what was there: ${backupPath}`);
  for (const line of describe({ hooks, env })) console.log(line);
  console.log(
    `+ statusLine: Stratavore's (reports subscription limits)${
      userLine ? ", which runs and prints yours" : ", a short line of its own"
    }`,
  );
  if (own) {
    console.log(
      `telemetry: left as it is (${own.endpoint}); observed sessions' costs are estimated from their transcripts`,
    );
  }
  console.log(
    "every Claude session on this machine now appears as an observed runner; " +
      "`stratavore hooks uninstall` puts the file back",
  );
}

function withoutRunner(env: Record<string, string>): Record<string, string> {
  // Observed sessions have no runner id: they are found by their session id.
  const { OTEL_RESOURCE_ATTRIBUTES: _, ...rest } = env;
  return rest;
}

async function readRecord(path: string): Promise<InstallRecord | undefined> {
  try {
    const r = record.safeParse(JSON.parse(await Deno.readTextFile(path)));
    return r.success ? r.data : undefined;
  } catch {
    return undefined;
  }
}

export async function hooksUninstallCommand(opts: HooksOptions): Promise<void> {
  const ctx = contextFrom(opts);
  const recordPath = homePath(ctx.loaded.config.home, "hooks-install.json");
  const rec = await readRecord(recordPath);
  const path = rec?.settingsPath ?? settingsPathOf(opts);
  const { text, data } = await readJson(path);
  let how: string;
  if (rec && text === rec.written) {
    // Untouched since install: put back exactly what was there.
    if (rec.backupPath) {
      await writePrivate(path, await Deno.readTextFile(rec.backupPath));
      how = `restored from ${rec.backupPath}`;
    } else {
      await Deno.remove(path);
      how = "removed (there was none before)";
    }
  } else if (text !== null) {
    // Changed since: take out only what Stratavore added.
    const cleaned = withoutOurs(data, rec?.envKeys ?? [], undefined, rec?.userStatusLine);
    await writePrivate(path, JSON.stringify(cleaned, null, 2) + "\n");
    how = "Stratavore's entries taken out (the file was changed since install; the rest is kept)";
  } else {
    how = "nothing to do (no settings file)";
  }
  if (rec) {
    try {
      await (await connect(ctx)).revokeObserverToken(rec.token);
    } catch (e) {
      console.error(
        `stratavore: could not revoke the hooks' token (${(e as Error).message}); it stops with the file`,
      );
    }
    await Deno.remove(recordPath).catch(() => {});
  }
  if (ctx.json) return printJson({ settingsPath: path, result: how });
  console.log(`${path}: ${how}`);
}

export async function hooksStatusCommand(opts: HooksOptions): Promise<void> {
  const ctx = contextFrom(opts);
  const rec = await readRecord(homePath(ctx.loaded.config.home, "hooks-install.json"));
  const path = rec?.settingsPath ?? settingsPathOf(opts);
  const { data } = await readJson(path);
  const groups = Object.values((data.hooks ?? {}) as Record<string, unknown[]>).flat();
  const ours = groups.filter(isOurs).length;
  const installed = ours > 0;
  const status = {
    settingsPath: path,
    installed,
    events: ours,
    url: rec?.url ?? null,
    telemetry: rec ? (rec.envKeys.length ? "stratavore" : "yours") : null,
    installedAt: rec?.installedAt ?? null,
  };
  if (ctx.json) return printJson(status);
  console.log(renderFields([
    ["settings", path],
    ["hooks", installed ? `installed (${ours} events) → ${status.url ?? "?"}` : "not installed"],
    ["telemetry", status.telemetry ?? "-"],
    ["since", status.installedAt ?? "-"],
  ], ctx.color));
}
