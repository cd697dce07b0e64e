/** Projects: SQL and the mapping from rows to the API shape. */
import type { Queryable } from "../../lib/db/types.ts";
import { sqlState, UNIQUE_VIOLATION } from "../../lib/db/types.ts";
import { AppError } from "../../lib/errors.ts";
import type { Project, ProjectCreate, ProjectPatch } from "../../lib/schemas/project.ts";
import { ACTIVE_SQL } from "./runners.ts";
import { emit } from "./outbox.ts";
import { tellAgent } from "./agent_notices.ts";

interface ProjectRow {
  id: number;
  name: string;
  path: string;
  description: string;
  max_runners: number;
  command: string;
  command_args: string[];
  approvals: Project["approvals"];
  approval_timeout_seconds: number;
  limit_policy: Project["limitPolicy"];
  worktree: Project["worktree"];
  active_runners: number;
  tokens_this_period: number;
  created_at: Date;
  updated_at: Date;
}

/** Tokens "this period": the project's budget period when it has one, else the current UTC month. */
const SELECT = `
  SELECT p.*,
    (SELECT count(*) FROM runners r WHERE r.project_id = p.id AND r.state IN ${ACTIVE_SQL})::int AS active_runners,
    coalesce((
      SELECT bu.tokens FROM budgets b JOIN budget_usage bu ON bu.budget_id = b.id
      WHERE b.scope = 'project' AND b.scope_ref = p.name ORDER BY bu.period_start DESC LIMIT 1
    ), (
      SELECT sum(u.input_tokens + u.output_tokens + u.cache_creation_tokens + u.cache_read_tokens)
      FROM token_usage u
      WHERE u.project_id = p.id AND u.day >= date_trunc('month', now() AT TIME ZONE 'UTC')::date
    ), 0)::int8 AS tokens_this_period
  FROM projects p`;

export function toProject(r: ProjectRow): Project {
  return {
    id: r.id,
    name: r.name,
    path: r.path,
    description: r.description,
    maxRunners: r.max_runners,
    command: r.command,
    commandArgs: r.command_args,
    approvals: r.approvals,
    approvalTimeoutSeconds: r.approval_timeout_seconds,
    limitPolicy: r.limit_policy ?? null,
    worktree: r.worktree,
    activeRunners: r.active_runners,
    tokensThisPeriod: r.tokens_this_period,
    createdAt: r.created_at.toISOString(),
    updatedAt: r.updated_at.toISOString(),
  };
}

function notFound(name: string): AppError {
  return new AppError("not_found", `no project named "${name}": list them with "stratavore projects"`);
}

export async function listProjects(q: Queryable): Promise<Project[]> {
  const rows = await q.query<ProjectRow>(`${SELECT} ORDER BY p.name`);
  return rows.map(toProject);
}

export async function getProject(q: Queryable, name: string): Promise<Project> {
  const [row] = await q.query<ProjectRow>(`${SELECT} WHERE p.name = $1`, [name]);
  if (!row) throw notFound(name);
  return toProject(row);
}

export async function createProject(tx: Queryable, body: ProjectCreate): Promise<Project> {
  try {
    await tx.query(
      `INSERT INTO projects (name, path, description, max_runners, command, command_args, approvals,
         approval_timeout_seconds, limit_policy, worktree)
       VALUES ($1, $2, $3, $4, $5, $6::jsonb, $7, $8, $9, $10)`,
      [
        body.name,
        body.path,
        body.description ?? "",
        body.maxRunners ?? 5,
        body.command ?? "claude",
        body.commandArgs ?? [],
        body.approvals ?? "notify",
        body.approvalTimeoutSeconds ?? 300,
        body.limitPolicy ?? null,
        body.worktree ?? "off",
      ],
    );
  } catch (e) {
    if (sqlState(e) === UNIQUE_VIOLATION) {
      throw new AppError("conflict", `a project named "${body.name}" already exists`);
    }
    throw e;
  }
  const project = await getProject(tx, body.name);
  await emit(tx, {
    type: "project.created",
    entityId: project.name,
    project: project.name,
    payload: { project },
  });
  return project;
}

export async function updateProject(tx: Queryable, name: string, patch: ProjectPatch): Promise<Project> {
  const rows = await tx.query(
    `UPDATE projects SET
       path = coalesce($2, path),
       description = coalesce($3, description),
       max_runners = coalesce($4, max_runners),
       command = coalesce($5, command),
       command_args = coalesce($6::jsonb, command_args),
       approvals = coalesce($7, approvals),
       approval_timeout_seconds = coalesce($8, approval_timeout_seconds),
       -- "default" (sent as null with $10) goes back to the daemon's policy.
       limit_policy = CASE WHEN $10 THEN $9 ELSE limit_policy END,
       worktree = coalesce($11, worktree),
       updated_at = now()
     WHERE name = $1 RETURNING id`,
    [
      name,
      patch.path ?? null,
      patch.description ?? null,
      patch.maxRunners ?? null,
      patch.command ?? null,
      patch.commandArgs ?? null,
      patch.approvals ?? null,
      patch.approvalTimeoutSeconds ?? null,
      patch.limitPolicy ?? null,
      patch.limitPolicy !== undefined,
      patch.worktree ?? null,
    ],
  );
  if (rows.length === 0) throw notFound(name);
  const project = await getProject(tx, name);
  await emit(tx, {
    type: "project.updated",
    entityId: name,
    project: name,
    payload: { project, changed: Object.keys(patch) },
  });
  return project;
}

/** Refuses while runners are active unless forced; forced deletion marks those runners killed first. */
export async function deleteProject(
  tx: Queryable,
  name: string,
  force: boolean,
): Promise<{ killed: number[] }> {
  const [p] = await tx.query<{ id: number }>("SELECT id FROM projects WHERE name = $1 FOR UPDATE", [name]);
  if (!p) throw notFound(name);
  const active = await tx.query<{ id: number }>(
    `SELECT id FROM runners WHERE project_id = $1 AND state IN ${ACTIVE_SQL} ORDER BY id FOR UPDATE`,
    [p.id],
  );
  if (active.length > 0 && !force) {
    throw new AppError(
      "project_busy",
      `project "${name}" has ${active.length} active runner(s) (${
        active.map((r) => r.id).join(", ")
      }): stop them first, or delete with --force`,
      { details: { activeRunners: active.map((r) => r.id) } },
    );
  }
  for (const r of active) {
    await tellAgent(tx, r.id, { t: "kill", reason: `project ${name} deleted` });
    await emit(tx, {
      type: "runner.killed",
      entityId: r.id,
      project: name,
      payload: { runnerId: r.id, reason: `project ${name} deleted` },
    });
  }
  await tx.query("DELETE FROM budgets WHERE scope = 'project' AND scope_ref = $1", [name]);
  await tx.query("DELETE FROM projects WHERE id = $1", [p.id]);
  await emit(tx, { type: "project.deleted", entityId: name, project: name, payload: { name, force } });
  return { killed: active.map((r) => r.id) };
}

/** The project whose path is `cwd` or the closest folder above it (for `stratavore agent` without --project). */
export async function findProjectByPath(q: Queryable, cwd: string): Promise<Project | undefined> {
  const rows = await q.query<ProjectRow>(`${SELECT} ORDER BY length(p.path) DESC`);
  // Windows paths compare without case; POSIX paths are case-sensitive.
  const norm = (s: string) => {
    const p = s.replace(/\\/g, "/").replace(/\/+$/, "");
    return /^[A-Za-z]:/.test(p) ? p.toLowerCase() : p;
  };
  const here = norm(cwd);
  const hit = rows.find((r) => here === norm(r.path) || here.startsWith(norm(r.path) + "/"));
  return hit ? toProject(hit) : undefined;
}
