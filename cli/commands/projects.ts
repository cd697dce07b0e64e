/**
 * Projects: `stratavore new`, `projects`, `project show|set|rm`. Everything goes through the API client;
 * names and numbers are checked here first, so a typo is a usage error (exit 2) before any request.
 */
import { resolve } from "node:path";
import { AppError } from "../../lib/errors.ts";
import { PROJECT_NAME_RE } from "../../lib/schemas/common.ts";
import {
  APPROVAL_MODES,
  LIMIT_POLICIES,
  type Project,
  type ProjectPatch,
} from "../../lib/schemas/project.ts";
import { WORKTREE_MODES } from "../../lib/schemas/worktree.ts";
import { parseDuration } from "../../lib/duration.ts";
import { parseChoice, parseWholeNumber, splitArgs } from "../args.ts";
import { connect } from "../connect.ts";
import { type Context, contextFrom, type GlobalOptions } from "../../lib/startup.ts";
import { paint } from "../render/ansi.ts";
import {
  formatAge,
  formatCount,
  formatSpan,
  now,
  paintState,
  printJson,
  renderFields,
  shellQuote,
} from "../render/format.ts";
import { printTable } from "../render/table.ts";

export interface ProjectOptions extends GlobalOptions {
  path?: string;
  maxRunners?: string;
  description?: string;
  command?: string;
  args?: string;
  approvals?: string;
  limitPolicy?: string;
  approvalTimeout?: string;
  worktree?: string;
}

function checkName(name: string): string {
  if (!PROJECT_NAME_RE.test(name)) {
    throw new AppError(
      "usage",
      `"${name}" is not a valid project name: use 1-63 of a-z, 0-9, '.', '_', '-', starting with a letter or digit`,
    );
  }
  return name;
}

/** The fields common to `new` and `project set`, checked and converted to the API's shape. */
function fields(opts: ProjectOptions): ProjectPatch {
  const patch: ProjectPatch = {};
  if (opts.path !== undefined) {
    if (opts.path.trim() === "") throw new AppError("usage", "--path must not be empty");
    patch.path = resolve(opts.path);
  }
  if (opts.maxRunners !== undefined) patch.maxRunners = parseWholeNumber("--max-runners", opts.maxRunners);
  if (opts.description !== undefined) patch.description = opts.description;
  if (opts.command !== undefined) {
    if (opts.command.trim() === "") throw new AppError("usage", "--command must not be empty");
    patch.command = opts.command;
  }
  if (opts.args !== undefined) patch.commandArgs = splitArgs(opts.args);
  if (opts.limitPolicy !== undefined) {
    const p = parseChoice("--limit-policy", opts.limitPolicy, [...LIMIT_POLICIES, "default"] as const);
    patch.limitPolicy = p === "default" ? null : p;
  }
  if (opts.approvals !== undefined) {
    patch.approvals = parseChoice("--approvals", opts.approvals, APPROVAL_MODES);
  }
  if (opts.approvalTimeout !== undefined) {
    const ms = parseDuration(opts.approvalTimeout);
    if (ms === undefined || ms < 5000 || ms > 86_400_000) {
      throw new AppError(
        "usage",
        `--approval-timeout ${opts.approvalTimeout}: expected a duration from 5s to 24h`,
      );
    }
    patch.approvalTimeoutSeconds = Math.round(ms / 1000);
  }
  if (opts.worktree !== undefined) patch.worktree = parseChoice("--worktree", opts.worktree, WORKTREE_MODES);
  return patch;
}

function commandLine(p: Pick<Project, "command" | "commandArgs">): string {
  return [p.command, ...p.commandArgs].map(shellQuote).join(" ");
}

function warnMissingFolder(path: string): void {
  try {
    if (Deno.statSync(path).isDirectory) return;
  } catch { /* reported below */ }
  console.error(`note: ${path} is not a folder on this machine; "stratavore launch" needs it where it runs`);
}

export async function newCommand(name: string, opts: ProjectOptions): Promise<void> {
  const ctx = contextFrom(opts);
  checkName(name);
  const body = { ...fields(opts), name, path: resolve(opts.path ?? ".") };
  const client = await connect(ctx);
  const p = await client.createProject(body);
  if (ctx.json) {
    printJson(p);
    return warnMissingFolder(p.path);
  }
  console.log(
    `project ${p.name} created: ${p.path} (quota ${p.maxRunners} runner${p.maxRunners === 1 ? "" : "s"}, ` +
      `command ${commandLine(p)})`,
  );
  console.log(`start a session with: stratavore launch ${p.name}`);
  warnMissingFolder(p.path);
}

export async function projectsCommand(opts: GlobalOptions & { quiet?: boolean }): Promise<void> {
  const ctx = contextFrom(opts);
  const projects = await (await connect(ctx)).listProjects();
  if (ctx.json) return printJson({ projects });
  if (opts.quiet) {
    for (const p of projects) console.log(p.name);
    return;
  }
  if (projects.length === 0) {
    console.error('no projects yet: create one with "stratavore new <name> --path DIR"');
    return;
  }
  const at = now();
  printTable(
    ["NAME", "PATH", "ACTIVE/QUOTA", "TOKENS", "CREATED"],
    projects.map((p) => [
      p.name,
      p.path,
      quotaCell(p, ctx.color),
      formatCount(p.tokensThisPeriod),
      formatAge(p.createdAt, at),
    ]),
    { color: ctx.color, priority: [9, 9, 9, 5, 4], align: ["l", "l", "r", "r", "l"] },
  );
}

/** "2/5", yellow at the quota (the next launch will be refused). */
function quotaCell(p: Project, color: boolean): string {
  const text = `${p.activeRunners}/${p.maxRunners}`;
  return paint(text, p.activeRunners >= p.maxRunners ? "yellow" : undefined, color);
}

export async function projectShowCommand(name: string, opts: GlobalOptions): Promise<void> {
  const ctx = contextFrom(opts);
  const client = await connect(ctx);
  const [p, runners] = await Promise.all([
    client.getProject(checkName(name)),
    client.listRunners({ project: name }),
  ]);
  if (ctx.json) return printJson(p);
  const at = now();
  console.log(renderFields([
    ["name", p.name],
    ["path", p.path],
    ["description", p.description || "-"],
    ["command", commandLine(p)],
    ["quota", `${p.maxRunners} active runner${p.maxRunners === 1 ? "" : "s"}`],
    ["approvals", approvalsText(p)],
    ["worktree", worktreeText(p)],
    [
      "active",
      runners.length ? runners.map((r) => `${r.id} (${paintState(r, ctx.color)})`).join(", ") : "none",
    ],
    [
      "tokens",
      `${formatCount(p.tokensThisPeriod)} this period (${p.tokensThisPeriod.toLocaleString("en-US")})`,
    ],
    ["created", `${p.createdAt} (${formatAge(p.createdAt, at)})`],
    ["updated", `${p.updatedAt} (${formatAge(p.updatedAt, at)})`],
  ], ctx.color));
}

export async function projectSetCommand(name: string, opts: ProjectOptions): Promise<void> {
  const ctx = contextFrom(opts);
  checkName(name);
  const patch = fields(opts);
  if (Object.keys(patch).length === 0) {
    throw new AppError(
      "usage",
      "nothing to change: give at least one of --path, --max-runners, --description, --command, --args, " +
        "--approvals, --approval-timeout, --limit-policy, --worktree",
    );
  }
  const p = await (await connect(ctx)).updateProject(name, patch);
  if (ctx.json) printJson(p);
  else console.log(`project ${p.name} updated: ${describePatch(patch, p)}`);
  if (patch.path) warnMissingFolder(p.path);
}

function describePatch(patch: ProjectPatch, p: Project): string {
  const parts: string[] = [];
  if (patch.path !== undefined) parts.push(`path ${p.path}`);
  if (patch.maxRunners !== undefined) parts.push(`quota ${p.maxRunners}`);
  if (patch.description !== undefined) parts.push(`description ${JSON.stringify(p.description)}`);
  if (patch.command !== undefined || patch.commandArgs !== undefined) {
    parts.push(`command ${commandLine(p)}`);
  }
  if (patch.limitPolicy !== undefined) {
    parts.push(`limit policy ${p.limitPolicy ?? "the daemon's (STRATAVORE_LIMIT_POLICY)"}`);
  }
  if (patch.approvals !== undefined || patch.approvalTimeoutSeconds !== undefined) {
    parts.push(`approvals ${approvalsText(p)}`);
  }
  if (patch.worktree !== undefined) parts.push(`worktree ${worktreeText(p)}`);
  return parts.join(", ");
}

function worktreeText(p: Pick<Project, "worktree">): string {
  return p.worktree === "auto"
    ? "auto: every launch runs in a git worktree of its own (--no-worktree for one that does not)"
    : "off: only launches with --worktree get one";
}

function approvalsText(p: Pick<Project, "approvals" | "approvalTimeoutSeconds">): string {
  switch (p.approvals) {
    case "remote":
      return `remote: approve or deny from the CLI, web or Telegram for ${
        formatSpan(p.approvalTimeoutSeconds * 1000)
      }, or in the terminal`;
    case "notify":
      return "notify: shown everywhere, answered in the terminal";
    default:
      return "off: answered in the terminal only";
  }
}

export async function projectRmCommand(
  name: string,
  opts: GlobalOptions & { force?: boolean },
): Promise<void> {
  const ctx: Context = contextFrom(opts);
  checkName(name);
  const result = await (await connect(ctx)).deleteProject(name, opts.force === true);
  if (ctx.json) return printJson(result);
  const killed = result.killedRunners;
  console.log(
    `project ${result.deleted} deleted` +
      (killed.length ? `; killed its runner${killed.length === 1 ? "" : "s"} ${killed.join(", ")}` : ""),
  );
}
