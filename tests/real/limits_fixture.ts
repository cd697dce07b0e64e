/** The headless launches and waits the real-client limits tests share. */
import { assertEquals, eventually } from "../helpers/assert.ts";
import { runStratavore } from "../helpers/cli.ts";
import type { RealTest } from "./harness.ts";

export async function launchHeadless(t: RealTest, prompt: string): Promise<number> {
  const launched = await runStratavore(
    ["--json", "launch", t.project, "--detach", "--prompt", prompt],
    { env: t.env, cwd: t.dir },
  );
  assertEquals(launched.code, 0, launched.stderr);
  return JSON.parse(launched.stdout).id as number;
}

export async function ended(t: RealTest, id: number) {
  return await eventually(
    async () => {
      const r = await t.client.getRunner(id);
      return ["stopped", "failed", "killed"].includes(r.state) ? r : undefined;
    },
    60_000,
    `runner ${id} to end`,
  );
}
