import { z } from "zod";
import { projectName, timestamp } from "./common.ts";
import { worktreeMode } from "./worktree.ts";

const path = z.string().min(1, "must not be empty").max(4096);
const description = z.string().max(2000);
const maxRunners = z.number().int().min(0).max(1_000_000);
const command = z.string().min(1).max(1024);
const commandArgs = z.array(z.string().max(8192)).max(256);
/** Permission requests: off (terminal only, not shown), notify (shown everywhere, answered in the terminal), remote. */
export const APPROVAL_MODES = ["off", "notify", "remote"] as const;
const approvals = z.enum(APPROVAL_MODES);
const approvalTimeoutSeconds = z.number().int().min(5).max(86_400);
/** Launches while a subscription window is full: allow, refuse or queue; null → the daemon's limitPolicy. */
export const LIMIT_POLICIES = ["allow", "refuse", "queue"] as const;
const limitPolicy = z.enum(LIMIT_POLICIES).nullable();

export const projectCreate = z.strictObject({
  name: projectName,
  path,
  description: description.optional(),
  maxRunners: maxRunners.optional(),
  command: command.optional(),
  commandArgs: commandArgs.optional(),
  approvals: approvals.optional(),
  approvalTimeoutSeconds: approvalTimeoutSeconds.optional(),
  limitPolicy: limitPolicy.optional(),
  /** auto: every launch runs in a git worktree of its own (unless it says otherwise); off: when asked. */
  worktree: worktreeMode.optional(),
});
export type ProjectCreate = z.infer<typeof projectCreate>;

export const projectPatch = z.strictObject({
  path: path.optional(),
  description: description.optional(),
  maxRunners: maxRunners.optional(),
  command: command.optional(),
  commandArgs: commandArgs.optional(),
  approvals: approvals.optional(),
  approvalTimeoutSeconds: approvalTimeoutSeconds.optional(),
  limitPolicy: limitPolicy.optional(),
  worktree: worktreeMode.optional(),
});
export type ProjectPatch = z.infer<typeof projectPatch>;

export const project = z.object({
  id: z.number(),
  name: z.string(),
  path: z.string(),
  description: z.string(),
  maxRunners: z.number(),
  command: z.string(),
  commandArgs: z.array(z.string()),
  approvals: approvals,
  approvalTimeoutSeconds: z.number(),
  limitPolicy: limitPolicy.optional(),
  worktree: worktreeMode,
  activeRunners: z.number(),
  tokensThisPeriod: z.number(),
  createdAt: timestamp,
  updatedAt: timestamp,
});
export type Project = z.infer<typeof project>;

export const projectList = z.object({ projects: z.array(project) });
