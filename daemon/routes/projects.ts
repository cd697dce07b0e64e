/** /api/v1/projects */
import { Hono } from "hono";
import { z } from "zod";
import { projectCreate, projectPatch } from "../../lib/schemas/project.ts";
import { projectName } from "../../lib/schemas/common.ts";
import { readBody, readParam } from "../http/body.ts";
import type { AppEnv } from "../http/types.ts";
import type { Services } from "../services.ts";
import { createProject, deleteProject, getProject, listProjects, updateProject } from "../store/projects.ts";

const forceFlag = z.enum(["true", "false", "1", "0"]).optional().transform((v) => v === "true" || v === "1");

export function projectRoutes(s: Services): Hono<AppEnv> {
  const app = new Hono<AppEnv>();
  app.get("/", async (c) => c.json({ projects: await listProjects(s.db) }));
  app.post("/", async (c) => {
    const body = await readBody(c, projectCreate);
    const project = await s.db.transaction((tx) => createProject(tx, body));
    return c.json(project, 201);
  });
  app.get("/:name", async (c) => {
    const name = readParam("project name", c.req.param("name"), projectName);
    return c.json(await getProject(s.db, name));
  });
  app.patch("/:name", async (c) => {
    const name = readParam("project name", c.req.param("name"), projectName);
    const body = await readBody(c, projectPatch);
    return c.json(await s.db.transaction((tx) => updateProject(tx, name, body)));
  });
  app.delete("/:name", async (c) => {
    const name = readParam("project name", c.req.param("name"), projectName);
    const force = readParam("force flag", c.req.query("force"), forceFlag);
    const result = await s.db.transaction((tx) => deleteProject(tx, name, force));
    return c.json({ deleted: name, killedRunners: result.killed });
  });
  return app;
}
