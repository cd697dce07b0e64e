/**
 * Spawned sessions inherited the daemon's environment: TELEGRAM_BOT_TOKEN, DATABASE_URL and AMQP_URL with
 * their passwords. A session's environment is an allowlist plus what the user lists in sessionEnv, and
 * secret settings never pass.
 */
import { assert, assertEquals, eventually } from "../helpers/assert.ts";
import { eachDaemon } from "../helpers/daemon.ts";
import { sessionEnvironment } from "../../lib/session_env.ts";

Deno.test("session env: the allowlist, the user's additions, never a secret", () => {
  const parent = {
    PATH: "/usr/bin",
    HOME: "/home/ada",
    LC_ALL: "C.UTF-8",
    https_proxy: "http://proxy:3128",
    ANTHROPIC_API_KEY: "sk-ant-x",
    CLAUDE_CONFIG_DIR: "/c",
    DATABASE_URL: "postgres://u:pw@db/x",
    AMQP_URL: "amqp://u:pw@mq",
    TELEGRAM_BOT_TOKEN: "1:abc",
    TELEGRAM_CHAT_ID: "42",
    STRATAVORE_TOKEN: "sv_admin",
    STRATAVORE_RUNNER_TOKEN: "svr_x",
    STRATAVORE_LOG_LEVEL: "debug",
    AWS_SECRET_ACCESS_KEY: "aws",
    GITHUB_TOKEN: "ghp",
    NPM_TOKEN: "npm",
    RANDOM_SECRET: "r",
  };
  const env = sessionEnvironment(parent, ["GITHUB_TOKEN", "NPM_*", "DATABASE_URL"], "linux");
  assertEquals(Object.keys(env).sort(), [
    "ANTHROPIC_API_KEY",
    "AWS_SECRET_ACCESS_KEY",
    "CLAUDE_CONFIG_DIR",
    "GITHUB_TOKEN",
    "HOME",
    "LC_ALL",
    "NPM_TOKEN",
    "PATH",
    "STRATAVORE_LOG_LEVEL",
    "https_proxy",
  ]);
  // Windows compares names without case.
  const win = sessionEnvironment(
    { Path: "C:\\x", SystemRoot: "C:\\Windows", Database_Url: "pw" },
    [],
    "windows",
  );
  assertEquals(Object.keys(win).sort(), ["Path", "SystemRoot"]);
});

eachDaemon("session env: a detached session never sees the daemon's secrets", async (t) => {
  const out = `${t.daemon.home}/work/env.txt`;
  await Deno.mkdir(`${t.daemon.home}/work`, { recursive: true });
  await t.client.createProject({ name: "p", path: `${t.daemon.home}/work` });
  await t.client.launch({
    project: "p",
    command: "sh",
    args: ["-c", `env > ${out}.tmp && mv ${out}.tmp ${out}`],
    spawn: true,
  });
  const text = await eventually(
    async () => await Deno.readTextFile(out).catch(() => undefined),
    30_000,
    "env.txt",
  );
  const names = new Set(text.split("\n").map((l) => l.split("=")[0]).filter(Boolean));
  for (
    const secret of [
      "TELEGRAM_BOT_TOKEN",
      "DATABASE_URL",
      "STRATAVORE_RUNNER_TOKEN",
      "STRATAVORE_TOKEN",
      "MY_DAEMON_SECRET",
    ]
  ) {
    assert(!names.has(secret), `${secret} reached the session`);
  }
  assert(!text.includes("pw-of-db") && !text.includes("123456:bot"), "no secret value anywhere");
  assert(names.has("PATH") && names.has("EXTRA_FOR_SESSIONS"), [...names].join(","));
  assertEquals(text.match(/^EXTRA_FOR_SESSIONS=(.*)$/m)?.[1], "yes");
}, {
  inProcess: true,
  subprocesses: true,
  env: {
    TELEGRAM_BOT_TOKEN: "123456:bot-secret",
    TELEGRAM_API_ROOT: "http://127.0.0.1:9",
    MY_DAEMON_SECRET: "pw-of-db",
    EXTRA_FOR_SESSIONS: "yes",
    STRATAVORE_SESSION_ENV: "FAKE_*,DENO_*,EXTRA_FOR_SESSIONS",
  },
});
