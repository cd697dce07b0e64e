/**
 * Stratavore's statusline (agent/statusline.ts), as Claude Code runs it: the user's line is printed as soon
 * as it is ready, and the windows still reach a daemon that is slow to answer (a loaded one).
 */
import { assert, assertEquals } from "../helpers/assert.ts";
import { statuslineArgv } from "../../lib/self.ts";
import type { StatuslineConfig } from "../../agent/statusline.ts";

const ANSWER_AFTER_MS = 3000;

Deno.test("statusline: the line comes at once, and the report waits for a slow daemon", async () => {
  const dir = await Deno.makeTempDir();
  let reportBody: Record<string, unknown> | undefined;
  let answeredAt = 0;
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, async (req) => {
    if (req.method !== "POST" || new URL(req.url).pathname !== "/api/v1/runners/7/limits") {
      return Response.json({ error: { code: "not_found", message: "no" } }, { status: 404 });
    }
    reportBody = await req.json();
    await new Promise((r) => setTimeout(r, ANSWER_AFTER_MS));
    answeredAt = performance.now();
    return Response.json({});
  });
  try {
    const cfg: StatuslineConfig = {
      url: `http://127.0.0.1:${server.addr.port}`,
      runnerId: 7,
      token: "runner-token",
      account: { key: `config:${dir}`, kind: "config_dir", label: dir },
      command: "cat > /dev/null; echo USER-LINE",
    };
    const file = `${dir}/statusline.json`;
    await Deno.writeTextFile(file, JSON.stringify(cfg), { mode: 0o600 });
    const now = Math.floor(Date.now() / 1000);
    const stdin = JSON.stringify({
      session_id: "s-1",
      rate_limits: {
        five_hour: { used_percentage: 42, resets_at: now + 3600 },
        seven_day: { used_percentage: 7, resets_at: now + 86400 },
      },
    });
    const [cmd, ...args] = statuslineArgv(file);
    const child = new Deno.Command(cmd, { args, stdin: "piped", stdout: "piped", stderr: "null" }).spawn();
    const w = child.stdin.getWriter();
    await w.write(new TextEncoder().encode(stdin));
    await w.close();
    let printedAt = 0;
    let out = "";
    for await (const chunk of child.stdout.pipeThrough(new TextDecoderStream())) {
      printedAt ||= performance.now();
      out += chunk;
    }
    const status = await child.status;
    assertEquals([status.code, out], [0, "USER-LINE\n"]);
    assert(answeredAt > 0, "the daemon answered the report before the statusline exited");
    assert(printedAt < answeredAt, "the line was printed before the daemon's answer");
    assertEquals(reportBody?.source, "statusline");
    assertEquals(
      (reportBody?.windows as Record<string, { utilization: number }>).five_hour.utilization,
      0.42,
    );
    // Accepted, so the same figures are not sent again after the next turn.
    assertEquals(await Deno.readTextFile(`${file}.last`).then(() => true, () => false), true);
  } finally {
    await server.shutdown();
    await Deno.remove(dir, { recursive: true });
  }
});
