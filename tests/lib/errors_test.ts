/** Error codes: the client gives back the daemon's code for every code there is, and a stranger as "failed". */
import { z } from "zod";
import { assertEquals } from "../helpers/assert.ts";
import { ApiError, StratavoreClient } from "../../lib/client.ts";
import { AppError, ERROR_CODES, EXIT } from "../../lib/errors.ts";

/** A daemon stand-in that answers every request with the error named by the path. */
function errorServer() {
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, (req) => {
    const code = new URL(req.url).pathname.slice(1);
    const known = (ERROR_CODES as readonly string[]).includes(code);
    const e = known ? new AppError(code as AppError["code"], `it was ${code}`) : undefined;
    return Response.json(e ? e.toJSON() : { error: { code, message: `it was ${code}` } }, {
      status: e?.status ?? 418,
    });
  });
  return { url: `http://127.0.0.1:${server.addr.port}`, close: () => server.shutdown() };
}

async function caught(p: Promise<unknown>): Promise<ApiError> {
  try {
    await p;
  } catch (e) {
    if (e instanceof ApiError) return e;
    throw e;
  }
  throw new Error("no error");
}

Deno.test("errors: every code the daemon answers reaches the CLI as itself, with its status and exit code", async () => {
  const server = errorServer();
  const client = new StratavoreClient({ url: server.url, token: "t" });
  try {
    for (const code of ERROR_CODES) {
      const e = await caught(client.request("GET", `/${code}`, z.unknown()));
      const want = new AppError(code, "");
      assertEquals(
        [e.code, e.apiCode, e.httpStatus, e.exitCode],
        [code, code, want.status, want.exitCode],
        code,
      );
      assertEquals(e.message, `it was ${code}`);
    }
    const shutting = await caught(client.request("GET", "/shutting_down", z.unknown()));
    assertEquals([shutting.code, shutting.httpStatus, shutting.exitCode], [
      "shutting_down",
      503,
      EXIT.failed,
    ]);
    const stranger = await caught(client.request("GET", "/not_ready", z.unknown()));
    assertEquals([stranger.code, stranger.apiCode, stranger.httpStatus], ["failed", "not_ready", 418]);
  } finally {
    await server.close();
  }
});
