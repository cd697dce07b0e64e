/** `stratavore config`: the effective settings, secrets masked, each with where it came from. */
import { describeConfig } from "../../lib/config.ts";
import { contextFrom, type GlobalOptions } from "../../lib/startup.ts";
import { printTable } from "../render/table.ts";

export function configCommand(opts: GlobalOptions): void {
  const ctx = contextFrom(opts);
  const rows = describeConfig(ctx.loaded);
  if (ctx.json) {
    console.log(JSON.stringify(
      {
        file: ctx.loaded.file,
        settings: Object.fromEntries(rows.map((r) => [r.key, { value: r.value, source: r.source }])),
      },
      null,
      2,
    ));
    return;
  }
  printTable(["SETTING", "VALUE", "SOURCE"], rows.map((r) => [r.key, r.value || "-", r.source]), {
    color: ctx.color,
  });
}
