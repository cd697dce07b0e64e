import { parse } from "yaml";
import { assert, assertEquals, assertMatch } from "../helpers/assert.ts";
import { REPO } from "../helpers/env.ts";

interface Step {
  uses?: string;
  run?: string;
  with?: Record<string, unknown>;
}

Deno.test("release workflow: valid YAML; on v* tags tests with the services, builds, uploads dist/*", async () => {
  const wf = parse(await Deno.readTextFile(`${REPO}/.github/workflows/release.yml`), { strict: true });
  assertEquals(wf.on.push.tags, ["v*"]);
  assertEquals(wf.permissions.contents, "write");
  const job = wf.jobs.release;
  assertMatch(job.services.postgres.image, /^postgres:/);
  assertEquals(job.services.postgres.ports, ["5432:5432"]);
  assertMatch(job.services.rabbitmq.image, /^rabbitmq:/);
  assertEquals(job.services.rabbitmq.ports, ["5672:5672"]);
  const steps: Step[] = job.steps;
  const at = (pred: (s: Step) => boolean) => steps.findIndex(pred);
  const deno = at((s) => s.uses?.startsWith("denoland/setup-deno@") === true);
  const tests = at((s) => s.run?.trim() === "bash .ci/run");
  const build = at((s) => s.run?.trim() === "deno task build");
  const upload = at((s) => s.uses?.startsWith("softprops/action-gh-release@") === true);
  assert(
    deno >= 0 && tests > deno && build > tests && upload > build,
    `step order: ${deno} ${tests} ${build} ${upload}`,
  );
  assertMatch(String(steps[deno].with?.["deno-version"]), /^v2\./);
  assertEquals(steps[upload].with?.files, "dist/*");
});
