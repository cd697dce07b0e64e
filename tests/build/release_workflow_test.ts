import { parse } from "yaml";
import { assert, assertEquals, assertMatch } from "../helpers/assert.ts";
import { REPO } from "../helpers/env.ts";

interface Step {
  uses?: string;
  run?: string;
  with?: Record<string, unknown>;
}

Deno.test("release workflow: valid YAML; on v* tags installs the services, tests, builds, uploads dist/*", async () => {
  const wf = parse(await Deno.readTextFile(`${REPO}/.github/workflows/release.yml`), { strict: true });
  assertEquals(wf.on.push.tags, ["v*"]);
  assertEquals(wf.permissions.contents, "write");
  const job = wf.jobs.release;
  const steps: Step[] = job.steps;
  const at = (pred: (s: Step) => boolean) => steps.findIndex(pred);
  // The services run on the runner (rabbitmqctl must reach the broker), before the tests.
  const services = at((s) => /apt-get install[^\n]*postgresql[^\n]*rabbitmq-server/.test(s.run ?? ""));
  assert(services >= 0, "a step installs postgresql and rabbitmq-server");
  assertMatch(steps[services].run!, /\.erlang\.cookie/);
  assertEquals(job.env.CI, "true");
  assert(job.env.CHROMIUM_PATH, "the browser tests are pointed at a browser");
  const deno = at((s) => s.uses?.startsWith("denoland/setup-deno@") === true);
  const tests = at((s) => s.run?.trim() === "bash .ci/run");
  const build = at((s) => s.run?.trim() === "deno task build");
  const upload = at((s) => s.uses?.startsWith("softprops/action-gh-release@") === true);
  assert(
    deno >= 0 && services >= 0 && tests > deno && tests > services && build > tests && upload > build,
    `step order: ${deno} ${services} ${tests} ${build} ${upload}`,
  );
  assertMatch(String(steps[deno].with?.["deno-version"]), /^v2\./);
  assertEquals(steps[upload].with?.files, "dist/*");
});
