/**
 * `stratavore events [-f] [--type runner.*]`, `events dead`, `events retry <id>|--all`: the event stream
 * and the dead letters.
 */
import { clientFor } from "../../lib/discover.ts";
import { AppError } from "../../lib/errors.ts";
import { globListProblem } from "../../lib/glob.ts";
import { followEvents } from "../../lib/sse.ts";
import { onStopSignal } from "../../lib/signals.ts";
import { contextFrom, type GlobalOptions } from "../../lib/startup.ts";
import { eventLine } from "../render/events.ts";
import { printTable } from "../render/table.ts";
import { parseWholeNumber } from "../args.ts";

function checkTypes(types: string | undefined): string | undefined {
  const problem = types === undefined ? undefined : globListProblem(types);
  if (problem) throw new AppError("usage", `--type ${types}: ${problem}`);
  return types;
}

export async function eventsCommand(
  opts: GlobalOptions & { follow?: boolean; type?: string; limit?: string },
) {
  const ctx = contextFrom(opts);
  const types = checkTypes(opts.type);
  const limit = opts.limit ? parseWholeNumber("--limit", opts.limit, 1) : 20;
  const client = clientFor(ctx.loaded.config);
  const print = (e: Parameters<typeof eventLine>[0]) =>
    console.log(ctx.json ? JSON.stringify(e) : eventLine(e, ctx.color));
  const recent = await client.recentEvents({ types, limit });
  for (const e of recent) print(e);
  if (!opts.follow) return;
  const stop = new AbortController();
  const off = onStopSignal(() => stop.abort());
  try {
    await followEvents(client, {
      types,
      since: recent.at(-1)?.seq ?? undefined,
      signal: stop.signal,
      onEvent: print,
      onState: (state, error) => {
        if (state === "reconnecting" && !ctx.json) {
          console.error(`stratavore: event stream lost (${error}); reconnecting…`);
        }
      },
    });
  } finally {
    off();
  }
}

export async function deadCommand(opts: GlobalOptions) {
  const ctx = contextFrom(opts);
  const { events, total } = await clientFor(ctx.loaded.config).deadEvents();
  if (ctx.json) return console.log(JSON.stringify({ events, total }, null, 2));
  if (total === 0) return console.log("no dead-lettered events");
  printTable(
    ["ID", "TYPE", "PROJECT", "ATTEMPTS", "DEAD AT", "LAST ERROR"],
    events.map((
      e,
    ) => [
      String(e.id),
      e.type,
      e.project ?? "-",
      String(e.attempts),
      e.deadAt.slice(0, 19),
      e.lastError ?? "",
    ]),
    { color: ctx.color, priority: [3, 3, 1, 1, 0, 2] },
  );
  if (total > events.length) console.log(`(${total - events.length} more)`);
}

export async function retryCommand(id: string | undefined, opts: GlobalOptions & { all?: boolean }) {
  const ctx = contextFrom(opts);
  if (!id && !opts.all) throw new AppError("usage", "name an event id to retry, or --all");
  if (id && opts.all) throw new AppError("usage", "give an event id or --all, not both");
  const eventId = id ? parseWholeNumber("event id", id, 1) : undefined;
  const { requeued } = await clientFor(ctx.loaded.config).retryDead(eventId);
  if (ctx.json) return console.log(JSON.stringify({ requeued }));
  console.log(
    requeued.length ? `requeued ${requeued.length} event(s): ${requeued.join(", ")}` : "nothing to retry",
  );
}
