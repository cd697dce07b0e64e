/**
 * `stratavore launch <project> [-- args]`: a tracked session in this terminal (the agent in the
 * foreground). With --detach the daemon runs it in the background: headless with --prompt, otherwise an
 * interactive session in a pseudo-terminal to `attach` to; --attach does both at once.
 */
import { type AgentOptions, runAgent, worktreeRequestOf } from "../../agent/main.ts";
import { clientFor } from "../../lib/discover.ts";
import { AppError } from "../../lib/errors.ts";
import { contextFrom, type GlobalOptions } from "../../lib/startup.ts";

export interface LaunchOptions
  extends GlobalOptions, Pick<AgentOptions, "worktree" | "base" | "requireClean" | "heartbeat"> {
  detach?: boolean;
  attach?: boolean;
  prompt?: string;
}

export async function launchCommand(project: string, args: string[], opts: LaunchOptions): Promise<number> {
  const ctx = contextFrom(opts);
  const client = clientFor(ctx.loaded.config);
  if (opts.attach && opts.prompt !== undefined) {
    throw new AppError(
      "usage",
      "--attach starts an interactive session; a --prompt run has nothing to attach to (use logs -f)",
    );
  }
  if (opts.detach || opts.attach) {
    const worktree = worktreeRequestOf(opts);
    const answer = await client.launchDetached({ project, prompt: opts.prompt, args, worktree });
    if ("queued" in answer) {
      // Held for a subscription window's reset (the project's limit policy is queue).
      if (ctx.json) console.log(JSON.stringify(answer, null, 2));
      else {
        console.log(`${answer.queued.reason} (queue entry ${answer.queued.id})`);
        console.log("see it with: stratavore limits");
      }
      return 0;
    }
    const { runner } = answer;
    if (opts.attach) {
      const { attachCommand } = await import("./attach.ts");
      return await attachCommand(String(runner.id), opts);
    }
    if (ctx.json) console.log(JSON.stringify(runner, null, 2));
    else {
      console.log(
        `runner ${runner.id} started detached ${
          runner.worktree ? `in a worktree on branch ${runner.worktree.branch}` : `in ${runner.cwd}`
        }`,
      );
      console.log(
        runner.mode === "pty"
          ? `attach to it with: stratavore attach ${runner.id} (detach again with ${ctx.loaded.config.detachKey})`
          : `follow it with: stratavore logs ${runner.id} -f`,
      );
    }
    return 0;
  }
  if (opts.prompt !== undefined) throw new AppError("usage", "--prompt goes with --detach");
  const p = await client.getProject(project);
  try {
    if (!Deno.statSync(p.path).isDirectory) throw new Error();
  } catch {
    throw new AppError(
      "failed",
      `project ${project}'s folder ${p.path} does not exist here: fix it with "stratavore project set ${project} --path DIR"`,
    );
  }
  return await runAgent({ ...opts, project }, { project: p, extraArgs: args });
}
