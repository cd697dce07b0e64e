/** /api/v1/projects */
import { z } from "zod";
import { projectCreate, projectPatch } from "../../lib/schemas/project.ts";
import { projectName } from "../../lib/schemas/common.ts";
import { readBody, readParam } from "../http/body.ts";
import { type Route, Routes } from "../http/route.ts";
import type { Services } from "../services.ts";
import { createProject, deleteProject, getProject, listProjects, updateProject } from "../store/projects.ts";

const forceFlag = z.enum(["true", "false", "1", "0"]).optional().transform((v) => v === "true" || v === "1");

export function projectRoutes(s: Services): Route[] {
  const r = new Routes("/projects");
  r.get("/", { auth: "admin" }, async (c) => c.json({ projects: await listProjects(s.db) }));
  // What decides the commands that run: the admin token only, not a dashboard session.
  r.post("/", { auth: "admin-only" }, async (c) => {
    const body = await readBody(c, projectCreate);
    const project = await s.db.transaction((tx) => createProject(tx, body));
    return c.json(project, 201);
  });
  r.get("/:name", { auth: "admin" }, async (c) => {
    const name = readParam("project name", c.req.param("name"), projectName);
    return c.json(await getProject(s.db, name));
  });
  r.patch("/:name", { auth: "admin-only" }, async (c) => {
    const name = readParam("project name", c.req.param("name"), projectName);
    const body = await readBody(c, projectPatch);
    return c.json(await s.db.transaction((tx) => updateProject(tx, name, body)));
  });
  r.delete("/:name", { auth: "admin-only" }, async (c) => {
    const name = readParam("project name", c.req.param("name"), projectName);
    const force = readParam("force flag", c.req.query("force"), forceFlag);
    const result = await s.db.transaction((tx) => deleteProject(tx, name, force));
    return c.json({ deleted: name, killedRunners: result.killed });
  });
  return r.list;
}
