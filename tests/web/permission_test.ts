/**
 * A permission request on the runner's page in headless Chromium: Claude Code's PermissionRequest hook is
 * posted as Claude Code posts it (and waits); the page shows what the tool would do with Approve / Deny;
 * Approve answers the waiting hook with Claude Code's allow decision, and the panel goes.
 */
import { assertEquals, assertMatch } from "../helpers/assert.ts";
import { eachDaemon } from "../helpers/daemon.ts";
import { CI } from "../helpers/env.ts";
import { chromiumAvailable, signIn, withBrowser } from "./browser.ts";

const ignore = !chromiumAvailable() && !CI;

eachDaemon(
  "web: a runner's permission request is approved from its page and the hook gets the answer",
  async (t) => {
    const { daemon, client } = t;
    await client.createProject({
      name: "ask",
      path: "/tmp",
      approvals: "remote",
      approvalTimeoutSeconds: 120,
    });
    const { runner, token } = await client.launch({ project: "ask" });
    await client.withToken(token).started(runner.id, { pid: 4242, host: "laptop" });
    const hook = (event: Record<string, unknown>) =>
      fetch(`${daemon.url}/api/v1/runners/${runner.id}/claude-hook`, {
        method: "POST",
        headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
        body: JSON.stringify({ session_id: "s-web", cwd: "/tmp", ...event }),
      });
    await withBrowser(async (b) => {
      const page = await b.newPage();
      await signIn(page, daemon.url, daemon.token);
      await page.goto(`${daemon.url}/#/runners/${runner.id}`);
      await page.locator(`[data-runner-page="${runner.id}"]`).waitFor();
      // As Claude Code does: the hook waits for its answer while the dialog is on screen.
      const waiting = hook({
        hook_event_name: "PermissionRequest",
        tool_name: "Bash",
        tool_input: { command: "rm -rf build && make", description: "Rebuild" },
      });
      const panel = page.locator("[data-permission]");
      await panel.waitFor({ timeout: 10_000 });
      assertMatch(await panel.innerText(), /Asks permission: Bash[\s\S]*Bash: rm -rf build && make/);
      await panel.getByRole("button", { name: "Approve" }).click();
      const answer = await (await waiting).json();
      assertEquals(answer, {
        hookSpecificOutput: { hookEventName: "PermissionRequest", decision: { behavior: "allow" } },
      });
      await panel.waitFor({ state: "detached", timeout: 10_000 });
      const [q] = (await client.listPermissions(runner.id)).requests;
      assertEquals(
        [q.status, q.channel, q.answeredBy],
        ["allowed", "web", "dashboard"],
        "the dashboard session answered",
      );
    });
  },
  { inProcess: true, subprocesses: true, ignore, only: "pglite" },
);
