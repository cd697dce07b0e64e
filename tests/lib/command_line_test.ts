/** lib/command_line.ts: the one plan of a launch's command line. */
import { assertEquals } from "../helpers/assert.ts";
import { planCommandLine } from "../../lib/command_line.ts";

const project = { command: "claude", commandArgs: ["--model", "opus"], path: "/work/api" };

Deno.test("command line: the project's command and default arguments, then the request's extra ones", () => {
  assertEquals(planCommandLine(project, {}), {
    command: "claude",
    args: ["--model", "opus"],
    cwd: "/work/api",
  });
  assertEquals(planCommandLine(project, { args: ["--verbose"], cwd: "/work/api/sub" }), {
    command: "claude",
    args: ["--model", "opus", "--verbose"],
    cwd: "/work/api/sub",
  });
  // An empty list of extra arguments (what `launch --detach` sends) keeps the defaults.
  assertEquals(planCommandLine(project, { args: [] }).args, ["--model", "opus"]);
});

Deno.test("command line: a command of the request's own runs as given, without the project's defaults", () => {
  assertEquals(planCommandLine(project, { command: "claude", args: ["--continue"] }).args, ["--continue"]);
  assertEquals(planCommandLine(project, { command: "bash" }), {
    command: "bash",
    args: [],
    cwd: "/work/api",
  });
});

Deno.test("command line: a headless prompt adds claude's print flags first, or goes last for other commands", () => {
  assertEquals(planCommandLine(project, { prompt: "fix it", args: ["--max-turns", "3"] }).args, [
    "-p",
    "fix it",
    "--output-format",
    "stream-json",
    "--verbose",
    "--model",
    "opus",
    "--max-turns",
    "3",
  ]);
  const sleeper = { command: "sleep", commandArgs: ["600"], path: "/tmp" };
  assertEquals(planCommandLine(sleeper, { prompt: "5" }).args, ["600", "5"]);
});
