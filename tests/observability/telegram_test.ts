/**
 * Telegram notifications from a real daemon, against a fake Bot API: the exact messages for runner
 * events (MarkdownV2 with every special character), for budget warnings, refused launches and dead letters,
 * `stratavore notify test`, an API that keeps answering while Telegram hangs or is down, notifications kept
 * across restarts, and the /status and /runners bot commands (one poller among several daemons).
 */
import amqp from "amqplib";
import { assert, assertEquals, assertMatch, assertRejects, eventually } from "../helpers/assert.ts";
import { rabbitmqctl } from "../helpers/amqp.ts";
import { runStratavore } from "../helpers/cli.ts";
import { eachDaemon, freePort, startDaemon } from "../helpers/daemon.ts";
import { AMQP_TEST_URL, SKIP_AMQP } from "../helpers/env.ts";
import { ApiError, type StratavoreClient } from "../../lib/client.ts";
import { EXCHANGE } from "../../daemon/outbox/amqp.ts";
import { escapeMarkdown } from "../../daemon/notify/markdown.ts";
import { MARKS } from "../../daemon/notify/format.ts";
import { BOT_TOKEN, type Call, CHAT, FakeBotApi, telegramEnv } from "./fake_telegram.ts";

const SPECIAL = "_*[]()~`>#+-=|{}.!\\";

/** The text Telegram shows for a MarkdownV2 text without entities. */
const plain = (md: string) => md.replace(/\\(.)/g, "$1");
const texts = (api: FakeBotApi) => api.delivered().map((c) => String(c.body.text));

async function delivered(api: FakeBotApi, re: RegExp, what: string): Promise<Call> {
  return await eventually(() => api.delivered().find((c) => re.test(String(c.body.text))), 15_000, what);
}

function payload(text: string, silent: boolean) {
  return {
    chat_id: CHAT,
    text,
    parse_mode: "MarkdownV2",
    disable_notification: silent,
    link_preview_options: { is_disabled: true },
  };
}

async function running(client: StratavoreClient, project: string) {
  const { runner, token } = await client.launch({ project });
  const agent = client.withToken(token);
  await agent.started(runner.id, { pid: 4242, host: "box-1" });
  return { id: runner.id, agent };
}

const portA = freePort();
eachDaemon("telegram: runner events become the exact MarkdownV2 messages", async ({ client, daemon }) => {
  const api = FakeBotApi.start(portA);
  try {
    await delivered(api, /started \\\(version/, "daemon.started");
    await client.createProject({ name: "tg.api-1", path: "/tmp" });
    const p = escapeMarkdown("tg.api-1");
    assertEquals(p, "tg\\.api\\-1");

    const a = await running(client, "tg.api-1");
    const started = await delivered(api, new RegExp(`runner ${a.id} .* started`), "runner.started");
    assertEquals(
      started.body,
      payload(`${MARKS.low} runner ${a.id} in project ${p} started \\(pid 4242 on box\\-1\\)`, true),
    );

    await a.agent.claudeHook(a.id, {
      session_id: "s-telegram",
      hook_event_name: "Notification",
      notification_type: "permission_prompt",
      message: "Claude needs your permission to use Bash",
    });
    const waiting = await delivered(api, /waiting for your input/, "runner.activity");
    assertEquals(
      waiting.body,
      payload(
        `${MARKS.high} runner ${a.id} in project ${p} is waiting for your input\nClaude needs your permission to use Bash`,
        false,
      ),
    );

    await client.stopRunner(a.id, `done ${SPECIAL} ok`);
    await a.agent.exited(a.id, { exitCode: 0 });
    const stopped = await delivered(api, /stopped: /, "runner.stopped");
    assertEquals(
      stopped.body,
      payload(
        `${MARKS.low} runner ${a.id} in project ${p} stopped: done ` +
          "\\_\\*\\[\\]\\(\\)\\~\\`\\>\\#\\+\\-\\=\\|\\{\\}\\.\\!\\\\ ok",
        true,
      ),
    );

    const b = await running(client, "tg.api-1");
    await b.agent.heartbeat(b.id, {});
    await b.agent.exited(b.id, { exitCode: 3 });
    const failed = await delivered(api, / failed: /, "runner.failed");
    assertEquals(failed.body.disable_notification, false);
    assertMatch(
      String(failed.body.text),
      new RegExp(
        `^${MARKS.high} runner ${b.id} in project tg\\\\\\.api\\\\-1 failed: exit code 3, last heartbeat ` +
          `\\d{4}\\\\-\\d\\d\\\\-\\d\\d \\d\\d:\\d\\d:\\d\\d UTC \\\\\\(\\d+s before\\\\\\)$`,
      ),
    );
    // min-priority events (launched, stopping) are below the default notifyMinPriority (low).
    assert(!texts(api).some((t) => / launched$| is stopping/.test(t)), texts(api).join("\n"));
    // Each event once.
    assertEquals(new Set(texts(api)).size, texts(api).length, texts(api).join("\n"));
    // Shutting down sends daemon.stopped before the daemon exits.
    assertEquals(await daemon.stop(), 0);
    assert(texts(api).some((t) => / stopped \\\(SIGTERM\\\)$/.test(t)), texts(api).join("\n"));
  } finally {
    await api.close();
  }
}, { inProcess: true, env: telegramEnv(portA) });

/**
 * A RabbitMQ virtual host of its own, so a queue that refuses one event type (the broker nacks the publish)
 * touches no other daemon on the broker. The daemon's relay retries until the vhost exists.
 */
async function privateBroker(vhost: string) {
  await rabbitmqctl("add_vhost", vhost);
  await rabbitmqctl("set_permissions", "-p", vhost, "guest", ".*", ".*", ".*");
  const conn = await amqp.connect(`${AMQP_TEST_URL}/${vhost}`);
  const ch = await conn.createChannel();
  await ch.assertExchange(EXCHANGE, "topic", { durable: true });
  return {
    /** Until the returned function is called, every event of this type is nacked by the broker. */
    async refuse(type: string): Promise<() => Promise<void>> {
      const { queue } = await ch.assertQueue("", {
        exclusive: true,
        arguments: { "x-max-length": 0, "x-overflow": "reject-publish" },
      });
      await ch.bindQueue(queue, EXCHANGE, type);
      return async () => {
        await ch.deleteQueue(queue);
      };
    },
    async close() {
      await conn.close().catch(() => {});
      await rabbitmqctl("delete_vhost", vhost).catch(() => {});
    },
  };
}

const portF = freePort();
const VHOST = `stratavore-tg-${crypto.randomUUID().slice(0, 8)}`;
eachDaemon(
  "telegram: budget thresholds, refused launches and dead letters become the exact MarkdownV2 messages",
  async ({ client }) => {
    const broker = await privateBroker(VHOST);
    const api = FakeBotApi.start(portF);
    try {
      await delivered(api, /started \\\(version/, "daemon.started");
      const sent = () => api.delivered().slice(1).map((c) => c.body);
      const expected: ReturnType<typeof payload>[] = [];
      /** Waits for the next message (one at a time: no burst, so no digest) and checks it exactly. */
      const next = async (text: string, silent: boolean, what: string) => {
        expected.push(payload(text, silent));
        await eventually(() => sent().length >= expected.length, 15_000, what);
        assertEquals(sent(), expected, what);
      };

      // (c) An event the broker keeps refusing is dead-lettered after STRATAVORE_OUTBOX_MAX_ATTEMPTS (2),
      // and the event.dead_lettered announcing it (published fine) notifies, with sound.
      const accept = await broker.refuse("project.created");
      await client.createProject({ name: "tg-dead", path: "/tmp" });
      const [dead] = (await eventually(
        async () => {
          const d = await client.deadEvents();
          return d.events.length === 1 ? d : undefined;
        },
        15_000,
        "a dead letter",
      )).events;
      assertEquals([dead.type, dead.attempts, dead.lastError], [
        "project.created",
        2,
        "the broker nacked the message",
      ]);
      await next(
        `⚠️ event ${dead.id} \\(project\\.created\\) was dead\\-lettered after 2 attempts: the broker nacked the message`,
        false,
        "event.dead_lettered",
      );
      await accept();

      // (a) A project budget of 10,000 tokens warned at 50 %, crossed by a runner's reported usage.
      await client.createProject({ name: "tg-budget", path: "/tmp", maxRunners: 5 });
      await client.setBudget("project", "tg-budget", { tokens: 10_000, period: "none", warnAt: [50] });
      const a = await running(client, "tg-budget");
      await next(
        `ℹ️ runner ${a.id} in project tg\\-budget started \\(pid 4242 on box\\-1\\)`,
        true,
        "runner.started",
      );
      const total = (input: number, output: number) => ({
        sessionId: "s-tg-1",
        model: "claude-sonnet-4-5-20250929",
        input,
        output,
        cacheCreation: 0,
        cacheRead: 0,
      });
      await a.agent.heartbeat(a.id, { usage: [total(1_000, 5_000)] });
      await next(
        "🔔 budget project/tg\\-budget reached 50%: 6,000 of 10,000 tokens; it never resets \\(period none\\)",
        false,
        "budget.warning",
      );
      await a.agent.heartbeat(a.id, { usage: [total(2_500, 10_000)] });
      await next(
        "🚨 budget project/tg\\-budget is exhausted: 12,500 of 10,000 tokens; it never resets \\(period none\\); " +
          "new launches are refused",
        false,
        "budget.exceeded",
      );
      const overBudget = await assertRejects(() => client.launch({ project: "tg-budget" }), ApiError);
      assertEquals(overBudget.code, "budget_exceeded");
      await next(
        "🔔 launch refused in project tg\\-budget: budget project/tg\\-budget is exhausted: 12,500 of 10,000 " +
          'tokens; it never resets \\(period none\\)\\. Raise it with "stratavore budget set project tg\\-budget ' +
          '\\-\\-tokens N"',
        false,
        "budget.launch_refused",
      );

      // (b) A project at its quota of one runner refuses a second launch: project.quota_exceeded.
      await client.createProject({ name: "tg-quota", path: "/tmp", maxRunners: 1 });
      const b = await running(client, "tg-quota");
      await next(
        `ℹ️ runner ${b.id} in project tg\\-quota started \\(pid 4242 on box\\-1\\)`,
        true,
        "runner.started",
      );
      const overQuota = await assertRejects(() => client.launch({ project: "tg-quota" }), ApiError);
      assertEquals(overQuota.code, "quota_exceeded");
      await next(
        `🔔 launch refused: project "tg\\-quota" is at its quota of 1 active runner\\(s\\) \\(active: ${b.id}\\): ` +
          'stop one, or raise the quota with "stratavore project set tg\\-quota \\-\\-max\\-runners N"',
        false,
        "project.quota_exceeded",
      );
      // Nothing else was sent (budget.set, project.created, runner.launched do not notify): five of the
      // test's 100 ms gaps between messages pass without one.
      await new Promise((r) => setTimeout(r, 500));
      assertEquals(sent(), expected);
    } finally {
      await api.close();
      await broker.close();
    }
  },
  {
    env: telegramEnv(portF, {
      AMQP_URL: `${AMQP_TEST_URL}/${VHOST}`,
      STRATAVORE_OUTBOX_MAX_ATTEMPTS: "2",
      STRATAVORE_OUTBOX_RETRY_DELAY: "50ms",
    }),
    ignore: SKIP_AMQP,
    broker: true,
    inProcess: true,
    subprocesses: true, // rabbitmqctl makes the private vhost
  },
);

const portB = freePort();
eachDaemon(
  "telegram: `stratavore notify test` prints exactly what Telegram answered",
  async ({ env, daemon }) => {
    const api = FakeBotApi.start(portB);
    try {
      let r = await runStratavore(["notify", "test"], { env });
      assertEquals(r.code, 0, r.stderr);
      const sent = api.sends().find((c) => /test message/.test(String(c.body.text)))!;
      assertEquals(sent.body.chat_id, CHAT);
      assertMatch(
        plain(String(sent.body.text)),
        /^✅ stratavore test message from daemon .+ \(http:\/\/127\.0\.0\.1:\d+\)$/,
      );
      assertMatch(
        r.stdout,
        /^Telegram answered: ok=true, message_id=\d+\nthe test message is in chat -1009876543210\n$/,
      );

      // Scripted for the test message only: the daemon's own notices (daemon.started) may arrive meanwhile.
      const onlyTest = /test message/;
      api.script.push({
        status: 401,
        body: { ok: false, error_code: 401, description: "Unauthorized" },
        forText: onlyTest,
      });
      r = await runStratavore(["notify", "test"], { env });
      assertEquals(r.code, 1);
      assertEquals(
        r.stdout,
        'Telegram answered: ok=false, error_code=401, description="Unauthorized"\n' +
          "hint: the bot token is wrong (TELEGRAM_BOT_TOKEN)\n",
      );

      api.script.push({
        status: 400,
        body: { ok: false, error_code: 400, description: "Bad Request: chat not found" },
        forText: onlyTest,
      });
      r = await runStratavore(["notify", "test", "--json"], { env });
      assertEquals(r.code, 1);
      const json = JSON.parse(r.stdout);
      assertEquals(json.telegram, { ok: false, error_code: 400, description: "Bad Request: chat not found" });
      assertEquals(json.sent, false);
      assert(!r.stdout.includes(BOT_TOKEN) && !daemon.logs().join("\n").includes(BOT_TOKEN));
    } finally {
      await api.close();
    }
  },
  { inProcess: true, subprocesses: true, env: telegramEnv(portB), only: "pglite" },
);

eachDaemon("telegram: `notify test` without Telegram names the settings to set", async ({ env }) => {
  const r = await runStratavore(["notify", "test"], { env });
  assertEquals(r.code, 1);
  assertEquals(
    r.stdout,
    "Telegram is not configured on the daemon: set TELEGRAM_BOT_TOKEN (telegramBotToken) and " +
      "TELEGRAM_CHAT_ID (telegramChatId) where the daemon runs (environment, or config.json in its home), " +
      "then restart it\n",
  );
}, { inProcess: true, subprocesses: true, only: "pglite" });

async function timedStatus(client: StratavoreClient, n: number): Promise<number> {
  let worst = 0;
  for (let i = 0; i < n; i++) {
    const t0 = performance.now();
    await client.status();
    worst = Math.max(worst, performance.now() - t0);
  }
  return worst;
}

const portC = freePort();
eachDaemon(
  "telegram: the API keeps answering while Telegram hangs or is down, and nothing queued is lost",
  async ({ daemon, client, restart }) => {
    const api = FakeBotApi.start(portC);
    try {
      api.delayMs = 120_000; // a Telegram that accepts connections and never answers
      await client.createProject({ name: "slow", path: "/tmp", maxRunners: 50 });
      const ids: number[] = [];
      for (let i = 0; i < 5; i++) {
        const r = await running(client, "slow");
        await r.agent.exited(r.id, { exitCode: 7 });
        ids.push(r.id);
      }
      await eventually(() => api.sends().length >= 1, 10_000, "a send hangs");
      const worst = await timedStatus(client, 20);
      assert(worst < 1000, `status took ${worst} ms while Telegram hangs`);
      const t0 = Date.now();
      assertEquals(await daemon.stop(), 0);
      assert(Date.now() - t0 < 8000, `shutdown took ${Date.now() - t0} ms`);

      // Down: nothing listens at the API root.
      const down = await restart({ env: { TELEGRAM_API_ROOT: `http://127.0.0.1:${freePort()}` } });
      await down.waitForLog(/Telegram notification not sent; will retry/);
      assert((await timedStatus(client, 20)) < 1000, "status while Telegram is down");
      assertEquals(await down.stop(), 0);
      assert(!down.logs().join("\n").includes(BOT_TOKEN), "network errors are logged without the token");

      // Up again: every notification queued meanwhile arrives, each once.
      api.delayMs = 0;
      await restart();
      for (const id of ids) {
        await delivered(api, new RegExp(`runner ${id} in project slow failed: exit code 7`), `runner ${id}`);
      }
      await new Promise((r) => setTimeout(r, 500)); // five 100 ms gaps: room for a duplicate to show
      const lines = texts(api).flatMap((t) => t.split("\n")).filter((l) => / failed: exit code 7/.test(l));
      assertEquals(lines.length, 5, lines.join("\n"));
    } finally {
      await api.close();
    }
  },
  { inProcess: true, env: telegramEnv(portC), fixedPort: true },
);

const portD = freePort();
eachDaemon("telegram: /status and /runners are answered in the configured chat only", async ({ client }) => {
  const api = FakeBotApi.start(portD);
  try {
    await eventually(() => api.calls.some((c) => c.method === "getUpdates"), 15_000, "polling");
    await client.createProject({ name: "bot", path: "/tmp" });
    const r = await running(client, "bot");
    api.pushMessage(CHAT, "/status");
    const status = await delivered(api, /runners: 1 running/, "/status reply");
    assertEquals(status.body.chat_id, CHAT);
    assertEquals(status.body.parse_mode, "MarkdownV2");
    assertMatch(
      String(status.body.text),
      /^stratavore 0\\\.\d+\\\.\d+ on .+\nrunners: 1 running, 0 starting, 0 stopping\n/,
    );
    api.pushMessage(CHAT, "/runners");
    const list = await delivered(api, /active runner/, "/runners reply");
    assertMatch(
      String(list.body.text),
      new RegExp(`^1 active runner:\n${r.id} bot running, up \\d+s, heartbeat`),
    );
    api.pushMessage(555, "/status");
    // Updates are handled in order: once a later /status from the chat is answered, the other chat's was
    // handled too (no sleep past it).
    api.pushMessage(CHAT, "/status");
    await eventually(
      () =>
        api.delivered().filter((c) =>
          c.body.chat_id === CHAT && /runners: 1 running/.test(String(c.body.text))
        )
          .length === 2,
      15_000,
      "the second /status reply",
    );
    assert(!api.sends().some((c) => c.body.chat_id === 555), "another chat gets no answer");
    assertEquals(api.conflicts, 0);
  } finally {
    await api.close();
  }
}, { inProcess: true, env: telegramEnv(portD, { STRATAVORE_NOTIFY_BOT_COMMANDS: "true" }), only: "pglite" });

const portE = freePort();
eachDaemon(
  "telegram: with two daemons on one database only one polls for bot commands, and the other takes over",
  async ({ daemon, databaseUrl, env }) => {
    const api = FakeBotApi.start(portE);
    const second = await startDaemon({
      databaseUrl,
      env: {
        ...telegramEnv(portE, {
          STRATAVORE_NOTIFY_BOT_COMMANDS: "true",
          STRATAVORE_NOTIFY_BOT_CHECK: "300ms",
        }),
        CLAUDE_CONFIG_DIR: env.CLAUDE_CONFIG_DIR,
      },
    });
    try {
      const leaderLine = /answering Telegram bot commands/;
      await eventually(
        () => daemon.logs().some((l) => leaderLine.test(l)) || second.logs().some((l) => leaderLine.test(l)),
        15_000,
        "a leader",
      );
      await new Promise((r) => setTimeout(r, 1000)); // a follower checks every 300 ms here (5 s by default)
      const leaders = [daemon, second].filter((d) => d.logs().some((l) => leaderLine.test(l)));
      assertEquals(leaders.length, 1, "one poller");
      assertEquals(api.conflicts, 0, "no concurrent getUpdates");
      api.pushMessage(CHAT, "/status");
      await delivered(api, /runners: 0 running/, "answered by the leader");

      const [leader] = leaders;
      const follower = leader === daemon ? second : daemon;
      assertEquals(await leader.stop(), 0);
      await follower.waitForLog(leaderLine, 15_000);
      const before = api.delivered().length;
      api.pushMessage(CHAT, "/runners");
      await eventually(
        () => api.delivered().slice(before).some((c) => /no active runners/.test(String(c.body.text))),
        15_000,
        "answered by the new leader",
      );
      assertEquals(api.conflicts, 0);
      // Both daemons' daemon.started notifications went out, each once.
      assertEquals(texts(api).filter((t) => / started \\\(version/.test(t)).length, 2);
    } finally {
      await second.stop("SIGKILL").catch(() => {});
      await api.close();
    }
  },
  {
    env: telegramEnv(portE, { STRATAVORE_NOTIFY_BOT_COMMANDS: "true", STRATAVORE_NOTIFY_BOT_CHECK: "300ms" }),
    only: "postgres",
  },
);
