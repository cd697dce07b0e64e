/**
 * Telegram tells of subscription limits with the default settings: a warning at 80 % once, the wall, and a
 * runner limited until the reset (a real daemon against the fake Bot API).
 */
import { assertEquals, eventually } from "../helpers/assert.ts";
import { eachDaemon, freePort } from "../helpers/daemon.ts";
import { FakeBotApi, telegramEnv } from "../observability/fake_telegram.ts";

const plain = (md: string) => md.replace(/\\(.)/g, "$1");
const port = freePort();

eachDaemon("telegram: a limit warning once per window, the wall, and 'limited until'", async (t) => {
  const api = FakeBotApi.start(port);
  try {
    await t.client.createProject({ name: "lim", path: "/tmp" });
    const { runner, token } = await t.client.launch({ project: "lim" });
    const agent = t.client.withToken(token);
    await agent.started(runner.id, { pid: 4242, host: "box-1" });
    const reset = Math.floor(Date.now() / 1000) + 3600;
    const hhmm = new Date(reset * 1000).toISOString().slice(0, 19).replace("T", " ");
    const account = { key: "account:u-1", kind: "account" as const, label: "me@example.com" };
    const report = (u: number, status?: string) => ({
      source: "statusline" as const,
      account,
      windows: { five_hour: { utilization: u, resetsAt: reset, ...(status ? { status } : {}) } },
    });
    await agent.reportLimits(runner.id, report(0.82));
    await agent.reportLimits(runner.id, report(0.84));
    await agent.reportLimits(runner.id, report(1, "rejected"));
    const texts = () => api.delivered().map((c) => plain(String(c.body.text)));
    const want = [
      `5-hour usage window of me@example.com at 82% (threshold 80%), resets ${hhmm} UTC`,
      `5-hour usage limit of me@example.com reached: sessions are limited until ${hhmm} UTC`,
      `runner ${runner.id} in project lim hit the 5-hour limit: limited until ${hhmm} UTC`,
    ];
    await eventually(
      () => want.every((w) => texts().some((x) => x.includes(w))),
      15_000,
      "the three messages",
    );
    // 84 % after 82 % says nothing new; the 100 % report crosses 95 % (its own warning), never 80 % again.
    assertEquals(texts().filter((x) => x.includes("(threshold 80%)")).length, 1);
  } finally {
    await api.close();
  }
}, { inProcess: true, env: telegramEnv(port), only: "pglite" });
