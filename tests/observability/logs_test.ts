/**
 * A full daemon session (a detached agent run, a runner driven through launch, heartbeats, a hook and a
 * failed exit, Telegram notifications through a fake Bot API, a test message, refused tokens, shutdown):
 * every log line is structured, lifecycle lines carry their runner and project, and no line anywhere
 * contains the admin token, a runner token or the bot token.
 */
import { assert, assertEquals, eventually } from "../helpers/assert.ts";
import { projectFolder } from "../helpers/agent.ts";
import { eachDaemon, freePort } from "../helpers/daemon.ts";
import { BOT_TOKEN, FakeBotApi, telegramEnv } from "./fake_telegram.ts";

const port = freePort();
eachDaemon("logs: structured, with runner and project, and never a secret", async (t) => {
  const { daemon, client } = t;
  const api = FakeBotApi.start(port);
  try {
    const dir = await projectFolder(daemon.home, "logs-x");
    await client.createProject({ name: "logs-x", path: dir });
    await Deno.writeTextFile(t.planFile, JSON.stringify({ turns: [{ text: "Done." }], hooks: [] }));
    const detached = await client.launch({ project: "logs-x", spawn: true, prompt: "do it" });
    const driven = await client.launch({ project: "logs-x" });
    const agent = client.withToken(driven.token);
    const id = driven.runner.id;
    await agent.started(id, { pid: 999, host: "h", sessionId: "s-1" });
    for (let i = 1; i <= 3; i++) {
      await agent.heartbeat(id, {
        cpuPercent: 2,
        usage: [{
          sessionId: "s-1",
          model: "claude-sonnet-4-5",
          input: i,
          output: i,
          cacheCreation: 0,
          cacheRead: 0,
        }],
      });
    }
    await agent.claudeHook(id, {
      session_id: "s-logs",
      hook_event_name: "Notification",
      notification_type: "idle_prompt",
      message: "waiting",
    });
    await agent.exited(id, { exitCode: 2 });
    // Refused calls with tokens that are wrong or used where they may not be.
    await client.withToken(driven.token).listRunners().catch(() => {});
    await client.withToken(daemon.token).heartbeat(id, {}).catch(() => {});
    await client.withToken("sv_not-the-right-token-at-all").status().catch(() => {});
    await client.notifyTest();
    await eventually(
      async () => (await client.getRunner(detached.runner.id)).state === "stopped",
      30_000,
      "the detached run ends",
    );
    await eventually(
      () =>
        api.delivered().some((c) =>
          new RegExp(`runner ${id} in project logs\\\\-x failed`).test(String(c.body.text))
        ),
      15_000,
      "the failure notification",
    );
    assertEquals(await daemon.stop(), 0);

    const lines = daemon.logs().filter((l) => l.trim());
    const secrets = { admin: daemon.token, bot: BOT_TOKEN, detached: detached.token, driven: driven.token };
    for (const [what, secret] of Object.entries(secrets)) {
      assert(secret.length >= 16, what);
      const hit = lines.find((l) => l.includes(secret));
      assert(!hit, `the ${what} token is in the daemon log: ${hit}`);
    }
    const agentLog = await Deno.readTextFile(`${daemon.home}/logs/${detached.runner.id}.agent.log`).catch(
      () => "",
    );
    for (const [what, secret] of Object.entries(secrets)) {
      assert(!agentLog.includes(secret), `the ${what} token is in the agent log`);
    }

    const json = lines.map((l) => {
      try {
        return JSON.parse(l) as Record<string, unknown>;
      } catch {
        throw new Error(`not a JSON log line: ${l}`);
      }
    });
    assert(
      json.every((j) => typeof j.ts === "string" && typeof j.level === "string" && typeof j.msg === "string"),
    );
    const failed = json.find((j) => j.msg === "runner.failed" && j.runner === id);
    assertEquals(failed?.project, "logs-x", "the failure line names the project");
    for (const type of ["runner.launched", "runner.started", "runner.stopped"]) {
      const line = json.find((j) => j.msg === type && j.runner === detached.runner.id);
      assertEquals(line?.project, "logs-x", `${type} line`);
    }
    assert(json.some((j) => j.msg === "sent a Telegram notification" || j.msg === "sent a Telegram digest"));
    assert(json.some((j) => j.msg === "started a detached agent" && j.runner === detached.runner.id));
  } finally {
    await api.close();
  }
}, { env: telegramEnv(port), only: "pglite" });
