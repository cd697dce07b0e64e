/** `stratavore notify test`: the daemon sends a test message; print exactly what Telegram answered. */
import type { NotifyTestResponse } from "../../lib/schemas/notify.ts";
import { connect } from "../connect.ts";
import { contextFrom, type GlobalOptions } from "../../lib/startup.ts";
import { printJson } from "../render/format.ts";

export async function notifyTestCommand(opts: GlobalOptions): Promise<number> {
  const ctx = contextFrom(opts);
  const r = await (await connect(ctx)).notifyTest();
  if (ctx.json) printJson(r);
  else console.log(describeTest(r).join("\n"));
  return r.sent ? 0 : 1;
}

export function describeTest(r: NotifyTestResponse): string[] {
  if (!r.configured) {
    return [
      `Telegram is not configured on the daemon: set ${r.missing.join(" and ")} where the daemon runs ` +
      `(environment, or config.json in its home), then restart it`,
    ];
  }
  const t = r.telegram;
  if (!t) return [`no answer from Telegram at ${r.apiRoot}: ${r.error ?? "unknown error"}`];
  const order = ["ok", "error_code", "description", "message_id", "parameters"];
  const fields = Object.entries(t)
    .filter(([, v]) => v !== undefined)
    .sort(([a], [b]) => order.indexOf(a) - order.indexOf(b))
    .map(([k, v]) => `${k}=${JSON.stringify(v)}`);
  const out = [`Telegram answered: ${fields.join(", ")}`];
  if (r.sent) out.push(`the test message is in chat ${r.chatId}`);
  else if (t.error_code === 401 || t.error_code === 404) {
    out.push("hint: the bot token is wrong (TELEGRAM_BOT_TOKEN)");
  } else if (t.error_code === 400 || t.error_code === 403) {
    out.push(
      `hint: check TELEGRAM_CHAT_ID (${r.chatId}) and that the bot is a member of that chat (send it /start)`,
    );
  }
  return out;
}
