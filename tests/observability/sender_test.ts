/**
 * The notification queue and sender against a fake Bot API, on both backends: exact sendMessage payloads,
 * one message per second per chat, digests of bursts, 429 retry_after, 5xx and network retries with
 * backoff, failures kept as failed rows, and a shutdown that abandons a hanging send without losing it.
 */
import { assert, assertEquals, assertMatch, eventually } from "../helpers/assert.ts";
import { eachBackend } from "../helpers/db.ts";
import { freePort } from "../helpers/daemon.ts";
import type { Db } from "../../lib/db/types.ts";
import { Logger } from "../../lib/log.ts";
import { MARKS, type Priority, render } from "../../daemon/notify/format.ts";
import { claimDue, enqueue } from "../../daemon/notify/queue.ts";
import { NotificationSender, type SenderOptions } from "../../daemon/notify/sender.ts";
import { TelegramClient } from "../../daemon/notify/telegram.ts";
import { FakeBotApi, rateLimited, serverError } from "./fake_telegram.ts";

const TOKEN = "123456:TEST-token_abcdefghij";
const CHAT = "-1001234567890";
const lines: string[] = [];
const log = new Logger({
  level: "debug",
  json: true,
  sink: { write: (l) => lines.push(l), isTerminal: () => false },
  secrets: new Set([TOKEN]),
});

let nextEvent = 1;
async function queue(db: Db, texts: string[], priority: Priority = "default"): Promise<string[]> {
  const rendered = texts.map((text) => render({ priority, text }));
  await db.transaction((tx) =>
    enqueue(tx, rendered.map((text) => ({ eventId: nextEvent++, chatId: CHAT, priority, text })))
  );
  return rendered;
}

function sender(db: Db, apiRoot: string, o: Partial<SenderOptions> = {}): NotificationSender {
  return new NotificationSender(db, {
    chatId: CHAT,
    telegram: new TelegramClient(TOKEN, { apiRoot, timeoutSeconds: 5 }),
    log,
    retryBaseMs: 200,
    maxAttempts: 5,
    // The daemon's one message per second, where a test is about something else, is a tenth of one.
    minGapMs: 100,
    ...o,
  });
}

interface Row {
  id: number;
  attempts: number;
  sent: boolean;
  failed: boolean;
  claimed: boolean;
  last_error: string | null;
}
const rows = (db: Db) =>
  db.query<Row>(
    `SELECT id, attempts, sent_at IS NOT NULL AS sent, failed_at IS NOT NULL AS failed,
       claimed_until IS NOT NULL AS claimed, last_error FROM notifications ORDER BY id`,
  );

const gaps = (times: number[]) => times.slice(1).map((t, i) => t - times[i]);

eachBackend("notify sender: the exact sendMessage payload, silent below default priority", async ({ db }) => {
  const api = FakeBotApi.start();
  const s = sender(db, api.url);
  await s.start();
  try {
    const [quiet] = await queue(db, ["runner 1 in project a_b started"], "low");
    await eventually(() => api.delivered().length === 1, 10_000, "first message");
    const [loud] = await queue(db, ["runner 1 in project a_b failed: exit code 3"], "high");
    await eventually(async () => (await rows(db)).every((r) => r.sent), 10_000, "both marked sent");
    const [a, b] = api.delivered();
    assertEquals(a.token, TOKEN);
    assertEquals(a.body, {
      chat_id: -1001234567890,
      text: quiet,
      parse_mode: "MarkdownV2",
      disable_notification: true,
      link_preview_options: { is_disabled: true },
    });
    assertEquals(a.body.text, `${MARKS.low} runner 1 in project a\\_b started`);
    assertEquals(b.body, {
      chat_id: -1001234567890,
      text: loud,
      parse_mode: "MarkdownV2",
      disable_notification: false,
      link_preview_options: { is_disabled: true },
    });
    const r = await rows(db);
    assert(r.every((x) => x.sent && !x.failed && !x.claimed && x.attempts === 1), Deno.inspect(r));
  } finally {
    await s.stop(0);
    await api.close();
  }
});

eachBackend(
  "notify sender: at most one message per gap to a chat (the daemon's is a second), even from two senders",
  async ({ db }) => {
    const api = FakeBotApi.start();
    const one = sender(db, api.url, { minGapMs: 400 });
    const two = sender(db, api.url, { minGapMs: 400 });
    await one.start();
    await two.start();
    try {
      for (const i of [1, 2, 3]) await queue(db, [`note ${i}`]); // never more than 3 due: no digest
      await eventually(() => api.delivered().length === 3, 15_000, "three messages");
      await new Promise((r) => setTimeout(r, 400));
      const sent = api.delivered();
      assertEquals(sent.length, 3, "each notification once");
      assertEquals(sent.map((c) => String(c.body.text).slice(-6)), ["note 1", "note 2", "note 3"]);
      for (const g of gaps(sent.map((c) => c.at))) assert(g >= 360, `messages ${g} ms apart`);
    } finally {
      await one.stop(0);
      await two.stop(0);
      await api.close();
    }
  },
);

eachBackend("notify sender: a burst is sent as one digest message", async ({ db }) => {
  const api = FakeBotApi.start();
  const texts = await queue(
    db,
    Array.from({ length: 12 }, (_, i) => `runner ${i + 1} in project burst.x failed`),
  );
  const s = sender(db, api.url);
  await s.start();
  try {
    await eventually(async () => (await rows(db)).every((r) => r.sent), 10_000, "all sent");
    const [digest] = api.delivered();
    assertEquals(api.delivered().length, 1);
    assertEquals(digest.body.text, `${MARKS.default} 12 notifications:\n\n${texts.join("\n")}`);
    assertEquals(digest.body.disable_notification, false);
    // A few at a time are sent one by one again.
    await queue(db, ["one", "two"], "low");
    await eventually(() => api.delivered().length === 3, 10_000, "two single messages");
    assertEquals(api.delivered().slice(1).map((c) => c.body.text), [`${MARKS.low} one`, `${MARKS.low} two`]);
  } finally {
    await s.stop(0);
    await api.close();
  }
});

eachBackend(
  "notify sender: a 429 waits its retry_after and does not count as a failed attempt",
  async ({ db }) => {
    const api = FakeBotApi.start();
    api.script.push(rateLimited(1));
    await queue(db, ["wait for me"]);
    const s = sender(db, api.url);
    await s.start();
    try {
      await eventually(() => api.delivered().length === 1, 10_000, "sent after the wait");
      // Delivered is the fake's side; the sender records it a moment later.
      await eventually(async () => (await rows(db))[0].sent, 10_000, "marked sent");
      const [first, second] = api.sends();
      assert(second.at - first.at >= 950, `retried ${second.at - first.at} ms after the 429`);
      assertEquals(second.body, first.body);
      const [r] = await rows(db);
      assertEquals([r.sent, r.attempts, r.last_error], [true, 1, null]);
    } finally {
      await s.stop(0);
      await api.close();
    }
  },
);

eachBackend("notify sender: 5xx answers are retried with exponential backoff", async ({ db }) => {
  const api = FakeBotApi.start();
  api.script.push(serverError(500), serverError(502), serverError(503));
  await queue(db, ["try again"]);
  const s = sender(db, api.url, { minGapMs: 10, retryBaseMs: 150 });
  await s.start();
  try {
    await eventually(() => api.delivered().length === 1, 10_000, "sent at the fourth attempt");
    await eventually(async () => (await rows(db))[0].sent, 10_000, "marked sent");
    const g = gaps(api.sends().map((c) => c.at));
    assertEquals(g.length, 3);
    // 150, 300 and 600 ms, each with ±20 % jitter.
    assert(g[0] >= 115 && g[0] < 1000, `first retry after ${g[0]} ms`);
    assert(g[1] >= 235, `second retry after ${g[1]} ms`);
    assert(g[2] >= 475, `third retry after ${g[2]} ms`);
    const [r] = await rows(db);
    assertEquals([r.sent, r.attempts], [true, 4]);
  } finally {
    await s.stop(0);
    await api.close();
  }
});

eachBackend(
  "notify sender: unreachable Telegram is retried, then the row is kept as failed",
  async ({ db }) => {
    lines.length = 0;
    await queue(db, ["nobody hears this"]);
    const s = sender(db, `http://127.0.0.1:${freePort()}`, { minGapMs: 10, retryBaseMs: 50, maxAttempts: 3 });
    await s.start();
    try {
      await eventually(async () => (await rows(db))[0].failed, 10_000, "failed after 3 attempts");
      const [r] = await rows(db);
      assertEquals([r.sent, r.failed, r.attempts, r.claimed], [false, true, 3, false]);
      assertMatch(r.last_error ?? "", /Network request for 'sendMessage' failed/);
      assert(!r.last_error!.includes(TOKEN), "the stored error has no bot token");
      assert(lines.some((l) => /giving up/.test(l)), "the give-up is logged");
      assert(lines.every((l) => !l.includes(TOKEN)), "no log line has the bot token");
    } finally {
      await s.stop(0);
    }
  },
);

eachBackend("notify sender: refusals other than 429 and 5xx fail the row at once", async ({ db }) => {
  const api = FakeBotApi.start();
  api.script.push({
    status: 400,
    body: { ok: false, error_code: 400, description: "Bad Request: chat not found" },
  });
  await queue(db, ["to nowhere"]);
  const s = sender(db, api.url);
  await s.start();
  try {
    await eventually(async () => (await rows(db))[0].failed, 10_000, "failed");
    const [r] = await rows(db);
    assertEquals([r.attempts, r.last_error], [1, "Telegram answered 400: Bad Request: chat not found"]);
    assertEquals(api.sends().length, 1);
  } finally {
    await s.stop(0);
    await api.close();
  }
});

eachBackend("notify sender: stopping abandons a hanging send and keeps the row for later", async ({ db }) => {
  const api = FakeBotApi.start();
  api.delayMs = 30_000;
  await queue(db, ["slow"]);
  const s = sender(db, api.url);
  await s.start();
  try {
    await eventually(() => api.sends().length === 1, 10_000, "send started");
    const t0 = Date.now();
    await s.stop(300);
    assert(Date.now() - t0 < 2000, `stop took ${Date.now() - t0} ms`);
    const [r] = await rows(db);
    assertEquals([r.sent, r.failed, r.claimed, r.attempts], [false, false, false, 0]);
    // The next sender (after a restart) sends it.
    api.delayMs = 0;
    const next = sender(db, api.url);
    await next.start();
    await eventually(() => api.delivered().length === 1, 10_000, "sent by the next sender");
    await next.stop(0);
  } finally {
    await api.close();
  }
});

eachBackend(
  "notify queue: an event is queued once per chat, and a claimed chat is not claimed twice",
  async ({ db }) => {
    await db.transaction((tx) =>
      enqueue(tx, [
        { eventId: 1, chatId: CHAT, priority: "low", text: "a" },
        { eventId: 1, chatId: CHAT, priority: "low", text: "a again" },
        { eventId: 1, chatId: "-42", priority: "low", text: "a elsewhere" },
      ])
    );
    assertEquals((await db.query<{ n: number }>("SELECT count(*)::int AS n FROM notifications"))[0].n, 2);
    const o = { digestAt: 3, digestMax: 25, leaseMs: 30_000, minGapMs: 1000 };
    assertEquals((await claimDue(db, CHAT, o))?.map((r) => r.text), ["a"]);
    assertEquals(await claimDue(db, CHAT, o), undefined, "the chat is held by the first claim");
    assertEquals((await claimDue(db, "-42", o))?.map((r) => r.text), ["a elsewhere"]);
    assertEquals(await claimDue(db, "-43", o), [], "nothing due for a chat without rows");
  },
);
