/** Helpers for driving the real Claude Code in a terminal and checking what it was billed. */
import { eventually } from "../helpers/assert.ts";
import { startTmux, type Tmux } from "../helpers/tmux.ts";
import { MAIN } from "../helpers/env.ts";
import { costOf } from "../../lib/claude/pricing.ts";
import type { Runner } from "../../lib/schemas/runner.ts";
import type { StratavoreClient } from "../../lib/client.ts";
import type { MessagesApi } from "./messages_api.ts";
import type { RealTest } from "./harness.ts";

export const MODEL = "claude-sonnet-5-5";

/** What Claude Code charges for everything the stand-in answered (its prices are checked in prices_test). */
export function billed(api: MessagesApi): number {
  return api.requests.filter((r) => r.usage).reduce((sum, r) => {
    const u = r.usage!;
    return sum + costOf({
      input: u.input,
      output: u.output,
      cacheCreation: u.cacheWrite5m + u.cacheWrite1h,
      cacheCreation1h: u.cacheWrite1h,
      cacheRead: u.cacheRead,
    }, r.model).usd;
  }, 0);
}

export async function activeRunner(client: StratavoreClient, project: string): Promise<Runner> {
  return await eventually(
    async () => {
      const [r] = await client.listRunners({ project });
      return r?.state === "running" ? r : undefined;
    },
    60_000,
    "the runner to be running",
  );
}

/**
 * An interactive `stratavore launch` of the project's real Claude Code on MODEL in a 140×45 terminal (the
 * shell prints `launch-exit=<code>` when it ends), once its runner is running and its input box is ready.
 */
export async function launchInTerminal(
  t: RealTest,
  opts: { args?: string[]; env?: Record<string, string> } = {},
): Promise<{ tmux: Tmux; runner: Runner }> {
  const tmux = await startTmux(
    `'${Deno.execPath()}' run -A --quiet '${MAIN}' launch ${t.project} -- --model ${MODEL} ` +
      `${(opts.args ?? []).join(" ")}; echo "launch-exit=$?"; sleep 60`,
    { env: { ...t.env, TERM: "xterm-256color", ...opts.env }, cwd: t.dir, cols: 140, rows: 45 },
  );
  try {
    const runner = await activeRunner(t.client, t.project);
    await tmux.waitFor(/for shortcuts|mode on/, 60_000);
    return { tmux, runner };
  } catch (e) {
    await tmux.kill();
    throw e;
  }
}

export async function activityBecomes(
  client: StratavoreClient,
  id: number,
  activity: Runner["activity"],
  timeoutMs = 20_000,
): Promise<Runner> {
  return await eventually(
    async () => {
      const r = await client.getRunner(id);
      return r.activity === activity ? r : undefined;
    },
    timeoutMs,
    `runner ${id} to be ${activity}`,
  );
}

/** Claude Code's input box: the `❯` line right under a rule (the transcript's echoed prompts have none). */
function inputBox(screen: string): string | undefined {
  const lines = screen.split("\n");
  const i = lines.findLastIndex((l, n) => l.startsWith("❯") && n > 0 && lines[n - 1].startsWith("─"));
  return i >= 0 ? lines[i] : undefined;
}

/**
 * Types a prompt into Claude Code's input box and submits it: Enter is sent once the text shows in the box
 * (keys typed faster are taken as a paste), and again only while the box still holds it (a second Enter
 * must never reach a dialog the prompt opened).
 */
export async function prompt(tmux: Tmux, text: string): Promise<void> {
  await tmux.send("-l", text);
  await eventually(async () => inputBox(await tmux.screen())?.includes(text), 15_000, `"${text}" typed`);
  for (let attempt = 0; attempt < 5; attempt++) {
    await new Promise((r) => setTimeout(r, 400));
    await tmux.send("Enter");
    const sent = await eventually(
      async () => !inputBox(await tmux.screen())?.includes(text) || undefined,
      2000,
      "submitted",
    ).catch(() => false);
    if (sent) return;
  }
  throw new Error(`the prompt "${text}" was not submitted:\n${await tmux.screen()}`);
}

/**
 * Picks an option of the permission dialog on screen. A key sent the moment the dialog is drawn is dropped
 * (the PermissionRequest hook reports it ~70 ms after it appears, before it takes keys), so the key is sent
 * again, a second apart, until the dialog has closed.
 */
export async function answerDialog(tmux: Tmux, key: string): Promise<void> {
  const open = /Do you want to proceed\?/;
  for (let attempt = 0; attempt < 8; attempt++) {
    await tmux.send(key);
    const closed = await eventually(async () => !open.test(await tmux.screen()) || undefined, 1000, "closed")
      .catch(() => false);
    if (closed) return;
  }
  throw new Error(`the dialog did not take "${key}":\n${await tmux.screen()}`);
}
