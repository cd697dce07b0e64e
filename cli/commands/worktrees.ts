/**
 * `stratavore diff <runner>`: what a session changed against its base (committed and uncommitted), read
 * here when its worktree is on this machine, else from the daemon. `stratavore worktrees` lists the
 * runners' worktrees; `rm` removes one, `prune` removes every one with nothing to keep.
 */
import { AppError } from "../../lib/errors.ts";
import { runnerDiff } from "../../lib/runner_diff.ts";
import type { RunnerDiff } from "../../lib/schemas/worktree.ts";
import { exists } from "../../lib/worktree.ts";
import { parseRunnerId } from "../args.ts";
import { connect } from "../connect.ts";
import { contextFrom, type GlobalOptions } from "../../lib/startup.ts";
import { paint } from "../render/ansi.ts";
import { paintState, printJson } from "../render/format.ts";
import { printTable } from "../render/table.ts";
import { changesCell, renderStat } from "../render/worktree.ts";

export interface DiffOptions extends GlobalOptions {
  stat?: boolean;
}

export async function diffCommand(idText: string, paths: string[], opts: DiffOptions): Promise<void> {
  const ctx = contextFrom(opts);
  const id = parseRunnerId(idText);
  for (const p of paths) {
    if (p.startsWith("-")) throw new AppError("usage", `${p}: paths come after "--" and cannot start with -`);
  }
  const client = await connect(ctx);
  const r = await client.getRunner(id);
  // Read where the worktree is: here when its folder is on this machine, else by its daemon.
  const d: RunnerDiff = r.worktree?.path && exists(r.worktree.path)
    ? await runnerDiff(r, { statOnly: opts.stat, paths })
    : await client.runnerDiff(id, { stat: opts.stat, paths });
  if (ctx.json) return printJson(d);
  const against = `${d.base ?? "its base"} (${d.baseSha.slice(0, 12)})`;
  if (d.files.length === 0) {
    console.error(`runner ${id} (branch ${d.branch}) changed nothing against ${against}`);
    return;
  }
  if (opts.stat) {
    console.log(
      `runner ${id}: branch ${d.branch} against ${against}, ${
        d.source === "worktree" ? "committed and uncommitted" : "committed (the worktree is gone)"
      }`,
    );
    console.log(renderStat(d.files, ctx.color, Deno.stdout.isTerminal() ? Deno.consoleSize().columns : 80));
    return;
  }
  const out = d.files.map((f) => f.patch).join("");
  console.log(ctx.color ? colourPatch(out) : out.replace(/\n$/, ""));
  if (d.truncated) console.error("stratavore: the diff was cut (too large); narrow it with -- <paths>");
}

function colourPatch(patch: string): string {
  return patch.replace(/\n$/, "").split("\n").map((l) =>
    /^(diff --git|index |--- |\+\+\+ |new file|deleted file|similarity|rename |old mode|new mode)/.test(l)
      ? paint(l, "bold", true)
      : l.startsWith("@@")
      ? paint(l, "cyan", true)
      : l.startsWith("+")
      ? paint(l, "green", true)
      : l.startsWith("-")
      ? paint(l, "red", true)
      : l
  ).join("\n");
}

export async function worktreesCommand(opts: GlobalOptions & { project?: string; all?: boolean }) {
  const ctx = contextFrom(opts);
  const runners = await (await connect(ctx)).listWorktrees({
    project: opts.project,
    all: opts.all || undefined,
  });
  if (ctx.json) return printJson({ worktrees: runners });
  if (runners.length === 0) {
    console.error(
      `no worktrees${opts.all ? "" : " kept or in use"}${opts.project ? ` in project ${opts.project}` : ""}` +
        ' (launch with --worktree, or "stratavore project set <p> --worktree auto")',
    );
    return;
  }
  printTable(
    ["RUNNER", "PROJECT", "STATE", "WORKTREE", "BRANCH", "CHANGES", "PATH"],
    runners.map((r) => {
      const w = r.worktree!;
      return [
        String(r.id),
        r.project,
        paintState(r, ctx.color),
        w.state === "kept" ? paint("kept", "yellow", ctx.color) : w.state,
        w.branch,
        changesCell(w.status),
        `${w.path ?? "-"}${w.host && w.host !== Deno.hostname() ? ` (on ${w.host})` : ""}`,
      ];
    }),
    { color: ctx.color, priority: [9, 8, 5, 9, 7, 6, 4], align: ["r", "l", "l", "l", "l", "l", "l"] },
  );
}

export async function worktreeRmCommand(
  idText: string,
  opts: GlobalOptions & { force?: boolean; deleteBranch?: boolean },
) {
  const ctx = contextFrom(opts);
  const id = parseRunnerId(idText);
  const r = await (await connect(ctx)).removeWorktree(id, {
    force: opts.force,
    deleteBranch: opts.deleteBranch,
  });
  if (ctx.json) return printJson(r);
  console.log(
    `runner ${id}'s worktree removed${
      opts.deleteBranch ? ` with branch ${r.worktree?.branch}` : `; branch ${r.worktree?.branch} kept`
    }`,
  );
}

export async function worktreePruneCommand(opts: GlobalOptions) {
  const ctx = contextFrom(opts);
  const res = await (await connect(ctx)).pruneWorktrees();
  if (ctx.json) return printJson(res);
  const list = (ids: number[]) => ids.join(", ");
  console.log(
    res.removed.length
      ? `removed the worktrees of runner(s) ${list(res.removed)} (nothing to keep)`
      : "no worktree to remove",
  );
  if (res.kept.length) {
    console.log(`kept runner(s) ${list(res.kept)}: commits or changes (review: stratavore diff <runner>)`);
  }
  if (res.elsewhere.length) {
    console.log(`left runner(s) ${list(res.elsewhere)}: their worktrees are on other machines (prune there)`);
  }
}
