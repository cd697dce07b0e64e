/** `stratavore logs <runner> [-f] [--raw]`: a detached runner's output, readable or raw. */
import { clientFor } from "../../lib/discover.ts";
import { contextFrom, type GlobalOptions } from "../../lib/startup.ts";
import { renderStreamLine } from "../render/stream_json.ts";
import { parseRunnerId } from "../args.ts";
import { AppError } from "../../lib/errors.ts";
import { apiErrorBody } from "../../lib/schemas/common.ts";

export async function logsCommand(idText: string, opts: GlobalOptions & { follow?: boolean; raw?: boolean }) {
  const ctx = contextFrom(opts);
  const id = parseRunnerId(idText);
  const client = clientFor(ctx.loaded.config);
  const res = await client.raw("GET", `/api/v1/runners/${id}/logs`, {
    query: { follow: opts.follow || undefined },
    timeoutMs: opts.follow ? 0 : 30_000,
  });
  if (!res.ok) {
    const body = apiErrorBody.safeParse(await res.json().catch(() => undefined));
    throw new AppError(
      res.status === 404 ? "not_found" : "failed",
      body.success ? body.data.error.message : `HTTP ${res.status}`,
    );
  }
  const enc = new TextEncoder();
  let pending = "";
  const emit = (line: string) => {
    const out = opts.raw || ctx.json ? [line] : renderStreamLine(line, ctx.color);
    for (const l of out) Deno.stdout.writeSync(enc.encode(l + "\n"));
  };
  for await (const chunk of res.body!.pipeThrough(new TextDecoderStream())) {
    pending += chunk;
    let i;
    while ((i = pending.indexOf("\n")) >= 0) {
      emit(pending.slice(0, i));
      pending = pending.slice(i + 1);
    }
  }
  if (pending.trim()) emit(pending);
}
