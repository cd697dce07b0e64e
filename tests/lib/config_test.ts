import { assertEquals, assertMatch, assertThrows } from "../helpers/assert.ts";
import { describeConfig, loadConfig } from "../../lib/config.ts";
import { AppError } from "../../lib/errors.ts";

const noFile = () => undefined;

Deno.test("config: defaults when nothing is set", () => {
  const { config, sources } = loadConfig({ env: { HOME: "/home/ada" }, readFile: noFile, os: "linux" });
  assertEquals(config.home, "/home/ada/.stratavore");
  assertEquals(config.listen, "127.0.0.1:7890");
  assertEquals(config.metricsListen, "127.0.0.1:9091");
  assertEquals(config.heartbeatTtl, 30_000);
  assertEquals(config.databaseUrl, undefined);
  assertEquals(sources.listen, "default");
});

Deno.test("config: Windows home is %USERPROFILE%\\.stratavore", () => {
  const { config } = loadConfig({ env: { USERPROFILE: "C:\\Users\\Ada" }, readFile: noFile, os: "windows" });
  assertEquals(config.home, "C:\\Users\\Ada\\.stratavore");
});

Deno.test("config: flags beat environment beat config file beat defaults", () => {
  const file = JSON.stringify({
    listen: "127.0.0.1:1111",
    metricsListen: "127.0.0.1:2222",
    logLevel: "warn",
  });
  const { config, sources, file: path } = loadConfig({
    flags: { listen: "127.0.0.1:3333" },
    env: { HOME: "/h", STRATAVORE_LISTEN: "127.0.0.1:4444", STRATAVORE_METRICS_LISTEN: "127.0.0.1:5555" },
    readFile: (p) => (p === "/h/.stratavore/config.json" ? file : undefined),
    os: "linux",
  });
  assertEquals(path, "/h/.stratavore/config.json");
  assertEquals(config.listen, "127.0.0.1:3333");
  assertEquals(sources.listen, "flag");
  assertEquals(config.metricsListen, "127.0.0.1:5555");
  assertEquals(sources.metricsListen, "environment");
  assertEquals(config.logLevel, "warn");
  assertEquals(sources.logLevel, "config file");
  assertEquals(config.logFormat, "auto");
});

Deno.test("config: the config file is read from STRATAVORE_HOME", () => {
  const { config } = loadConfig({
    env: { HOME: "/h", STRATAVORE_HOME: "/data/sv" },
    readFile: (p) => (p === "/data/sv/config.json" ? '{"heartbeatTtl":"45s"}' : undefined),
    os: "linux",
  });
  assertEquals(config.heartbeatTtl, 45_000);
});

function configError(fn: () => unknown): string {
  const e = assertThrows(fn, AppError);
  assertEquals(e.code, "config_invalid");
  assertEquals(e.exitCode, 2);
  assertEquals(e.message.includes("\n"), false, "one line");
  return e.message;
}

Deno.test("config: a wrong value names the setting, the problem and its source", () => {
  assertMatch(
    configError(() => loadConfig({ env: { HOME: "/h", STRATAVORE_LISTEN: "nope" }, readFile: noFile })),
    /STRATAVORE_LISTEN="nope" \(from environment variable STRATAVORE_LISTEN\): expected host:port/,
  );
  assertMatch(
    configError(() => loadConfig({ flags: { heartbeatTtl: "soon" }, env: { HOME: "/h" }, readFile: noFile })),
    /heartbeatTtl="soon" \(from flag --heartbeat-ttl\)/,
  );
  assertMatch(
    configError(() =>
      loadConfig({ env: { HOME: "/h" }, readFile: () => '{"logLevel":"loud"}', os: "linux" })
    ),
    /logLevel="loud" \(from \/h\/.stratavore\/config.json, key "logLevel"\)/,
  );
  assertMatch(
    configError(() => loadConfig({ env: { HOME: "/h", DATABASE_URL: "mysql://x" }, readFile: noFile })),
    /DATABASE_URL=\(hidden\).*expected a URL such as "postgres:/,
  );
  assertMatch(
    configError(() =>
      loadConfig({ env: { HOME: "/h", STRATAVORE_HEARTBEAT_TTL: "10ms" }, readFile: noFile })
    ),
    /must be at least 500ms/,
  );
});

Deno.test("config: unknown keys and broken JSON in config.json are errors", () => {
  assertMatch(
    configError(() => loadConfig({ env: { HOME: "/h" }, readFile: () => '{"lisen":"x"}', os: "linux" })),
    /unknown setting "lisen" in \/h\/.stratavore\/config.json/,
  );
  assertMatch(
    configError(() => loadConfig({ env: { HOME: "/h" }, readFile: () => "{not json", os: "linux" })),
    /invalid config file \/h\/.stratavore\/config.json/,
  );
  assertMatch(
    configError(() => loadConfig({ env: { HOME: "/h" }, readFile: () => "[1]", os: "linux" })),
    /expected a JSON object/,
  );
});

Deno.test("config: describeConfig masks secrets", () => {
  const loaded = loadConfig({
    env: {
      HOME: "/h",
      DATABASE_URL: "postgres://app:hunter2@db:5432/sv",
      TELEGRAM_BOT_TOKEN: "123456:ABCDEF_secret",
      STRATAVORE_TOKEN: "sv_abcdefghijklmnopqrstuvwxyz",
    },
    readFile: noFile,
  });
  const rows = Object.fromEntries(describeConfig(loaded).map((r) => [r.key, r.value]));
  assertEquals(rows.databaseUrl, "postgres://app:****@db:5432/sv");
  assertEquals(rows.telegramBotToken, "********");
  assertEquals(rows.token, "********");
  assertEquals(rows.heartbeatInterval, "10s");
});
