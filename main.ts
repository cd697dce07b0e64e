/**
 * stratavore: one program, three roles. This file builds the command tree and nothing else; each command's
 * module is imported only when that command runs, so `--help` never loads the database, grammy or prom-client.
 */
import { Command, CommanderError, Option } from "@commander-js/extra-typings";
import { VERSION } from "./lib/version.ts";

type Opts = Record<string, unknown>;

const program = new Command("stratavore")
  .description("Control plane for AI coding-agent sessions (Claude Code)")
  .version(VERSION, "-V, --version")
  .enablePositionalOptions()
  .showHelpAfterError('(run "stratavore --help" for usage)')
  .option("--home <dir>", "data folder (env STRATAVORE_HOME, default ~/.stratavore)")
  .option("--url <url>", "daemon URL (env STRATAVORE_URL, else $STRATAVORE_HOME/daemon.json)")
  .option("--token <token>", "API token (env STRATAVORE_TOKEN, else $STRATAVORE_HOME/api-token)")
  .option("--json", "print JSON instead of tables")
  .option("--no-color", "no colours (also NO_COLOR, or when not a terminal)")
  .addOption(new Option("--log-level <level>", "log level").choices(["debug", "info", "warn", "error"]))
  .addOption(new Option("--log-format <format>", "log format").choices(["auto", "json", "text"]));

/** Global options merged under the command's own, for contextFrom(). */
function all(cmd: { optsWithGlobals(): Opts }): Opts {
  return cmd.optsWithGlobals();
}

// ---- daemon -------------------------------------------------------------------------------------
program.command("daemon")
  .description("run the control plane (API, runner manager, event relay)")
  .option("--listen <addr>", "API address (env STRATAVORE_LISTEN, default 127.0.0.1:7890)")
  .option(
    "--metrics-listen <addr>",
    "metrics address (env STRATAVORE_METRICS_LISTEN, default 127.0.0.1:9091)",
  )
  .option("--database-url <url>", "PostgreSQL URL (env DATABASE_URL; unset: embedded PGlite)")
  .option("--amqp-url <url>", "RabbitMQ URL (env AMQP_URL; unset: in-process events)")
  .action(async (_o, cmd) => (await import("./daemon/main.ts")).runDaemon(all(cmd)));

// ---- settings -----------------------------------------------------------------------------------
program.command("config")
  .description("print the effective settings (secrets masked) and where each came from")
  .action(async (_o, cmd) => (await import("./cli/commands/config.ts")).configCommand(all(cmd)));

// ---- run ----------------------------------------------------------------------------------------
async function main(argv: string[]): Promise<number> {
  const override = (cmd: { exitOverride(): unknown; commands: readonly unknown[] }): void => {
    cmd.exitOverride();
    for (const sub of cmd.commands) override(sub as typeof cmd);
  };
  override(program);
  try {
    await program.parseAsync(argv, { from: "user" });
    return 0;
  } catch (e) {
    const { reportError } = await import("./cli/errors.ts");
    if (e instanceof CommanderError) {
      // Help and version end with code 0; every other parse failure is a usage error.
      return e.exitCode === 0 || e.code === "commander.helpDisplayed" || e.code === "commander.version"
        ? 0
        : 2;
    }
    return reportError(e);
  }
}

if (import.meta.main) {
  const code = await main(Deno.args);
  Deno.exit(code);
}
