/**
 * `stratavore stop <id>…` and `stratavore kill <id>…`: each runner reports its own result, and the exit
 * code is 1 when any failed. `--all --project P` ends every active runner of a project, after a
 * confirmation on a terminal (or --yes); without a terminal and --yes it refuses rather than guess.
 */
import type { StratavoreClient } from "../../lib/client.ts";
import { AppError, isAppError } from "../../lib/errors.ts";
import type { Runner } from "../../lib/schemas/runner.ts";
import { parseRunnerId } from "../args.ts";
import { connect } from "../connect.ts";
import { contextFrom, type GlobalOptions } from "../../lib/startup.ts";
import { paintState, printJson } from "../render/format.ts";

export interface EndOptions extends GlobalOptions {
  all?: boolean;
  project?: string;
  allProjects?: boolean;
  yes?: boolean;
  reason?: string;
}

type Verb = "stop" | "kill";

export interface EndResult {
  id: number;
  ok: boolean;
  runner?: Runner;
  error?: { code: string; message: string };
}

export function stopCommand(ids: string[], opts: EndOptions): Promise<number> {
  return endRunners("stop", ids, opts);
}

export function killCommand(ids: string[], opts: EndOptions): Promise<number> {
  return endRunners("kill", ids, opts);
}

async function endRunners(verb: Verb, idTexts: string[], opts: EndOptions): Promise<number> {
  const ctx = contextFrom(opts);
  let ids: number[] = [];
  if (opts.all) checkAll(verb, idTexts, opts);
  else ids = checkIds(verb, idTexts, opts);
  const client = await connect(ctx);
  if (opts.all) {
    const targets = await client.listRunners({ project: opts.project });
    if (targets.length === 0) {
      if (opts.project) await client.getProject(opts.project); // a misspelt project is not_found (exit 1)
      const where = opts.project ? `project ${opts.project}` : "any project";
      if (ctx.json) printJson({ results: [] });
      else console.log(`no active runners in ${where}: nothing to ${verb}`);
      return 0;
    }
    const scope = opts.project ? `of project ${opts.project}` : "across all projects";
    if (!opts.yes && !(await confirm(verb, targets, scope))) {
      console.error(`stratavore: nothing was ${verb === "stop" ? "stopped" : "killed"}`);
      return 1;
    }
    ids = targets.map((r) => r.id);
  }
  // In order, at most 8 requests at a time (an --all of hundreds of runners must not flood the daemon).
  const results: EndResult[] = new Array(ids.length);
  let next = 0;
  await Promise.all(Array.from({ length: Math.min(8, ids.length) }, async () => {
    while (next < ids.length) {
      const i = next++;
      results[i] = await endOne(client, verb, ids[i], opts.reason);
    }
  }));
  if (ctx.json) printJson({ results });
  else {
    for (const r of results) {
      if (r.ok) console.log(`runner ${r.id}: ${describe(verb, r.runner!, ctx.color)}`);
      else console.error(`stratavore: ${failure(r.id, r.error!.message)}`);
    }
  }
  return results.every((r) => r.ok) ? 0 : 1;
}

/** The API's message, which usually names the runner already ("no runner 99: …"). */
function failure(id: number, message: string): string {
  return message.includes(`runner ${id}`) ? message : `runner ${id}: ${message}`;
}

function checkIds(verb: Verb, idTexts: string[], opts: EndOptions): number[] {
  if (opts.project || opts.allProjects) {
    throw new AppError(
      "usage",
      `--project and --all-projects go with --all: stratavore ${verb} --all --project P`,
    );
  }
  if (idTexts.length === 0) {
    throw new AppError(
      "usage",
      `name the runners to ${verb}: stratavore ${verb} <id>… (or --all --project P)`,
    );
  }
  return [...new Set(idTexts.map(parseRunnerId))];
}

function checkAll(verb: Verb, idTexts: string[], opts: EndOptions): void {
  if (idTexts.length > 0) {
    throw new AppError("usage", `give runner ids or --all, not both: stratavore ${verb} --all --project P`);
  }
  if (opts.project && opts.allProjects) {
    throw new AppError("usage", "give --project P or --all-projects, not both");
  }
  if (!opts.project && !opts.allProjects) {
    throw new AppError(
      "usage",
      `${verb} --all needs --project P (or --all-projects to ${verb} every active runner of every project)`,
    );
  }
}

async function endOne(client: StratavoreClient, verb: Verb, id: number, reason?: string): Promise<EndResult> {
  try {
    const runner = verb === "stop"
      ? await client.stopRunner(id, reason)
      : await client.killRunner(id, reason);
    return { id, ok: true, runner };
  } catch (e) {
    // A daemon that went away (or a bad token) is everyone's problem: the whole command fails with it.
    if (!isAppError(e) || e.code === "daemon_unreachable" || e.code === "unauthorized") throw e;
    return {
      id,
      ok: false,
      error: { code: (e as { apiCode?: string }).apiCode ?? e.code, message: e.message },
    };
  }
}

function describe(verb: Verb, r: Runner, color: boolean): string {
  const state = paintState({ state: r.state, activity: null }, color);
  if (verb === "kill") return `${state} (its agent ends the process tree now)`;
  return r.state === "stopping" ? `${state} (its agent stops the session gracefully)` : state;
}

/** Asks on the terminal; without one (a script, a pipe) it refuses with what to add instead. */
async function confirm(verb: Verb, targets: Runner[], scope: string): Promise<boolean> {
  const n = targets.length;
  const what = `${n} active runner${n === 1 ? "" : "s"} ${scope}`;
  if (!Deno.stdin.isTerminal()) {
    throw new AppError(
      "usage",
      `refusing to ${verb} ${what} without confirmation (stdin is not a terminal): add --yes`,
    );
  }
  const ids = targets.map((r) => r.id).join(", ");
  Deno.stderr.writeSync(
    new TextEncoder().encode(`${verb === "stop" ? "Stop" : "Kill"} ${what} (${ids})? [y/N] `),
  );
  const buf = new Uint8Array(256);
  const got = await Deno.stdin.read(buf);
  const answer = got === null ? "" : new TextDecoder().decode(buf.subarray(0, got)).trim().toLowerCase();
  return answer === "y" || answer === "yes";
}
