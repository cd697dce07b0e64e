/**
 * Windows: a Scheduled Task at logon for the current user (no admin needed) or, with --system, a service
 * through WinSW. A plain exe registered with sc.exe fails with error 1053: it does not speak the Service
 * Control Manager protocol, which WinSW does on its behalf. Pure: spec in, XML out.
 */
import { flagName, type Setting, SETTINGS } from "../../lib/settings.ts";
import { homePathFor } from "../../lib/home.ts";

const winPath = (dir: string, ...parts: string[]) => homePathFor("windows", dir, ...parts);
import { answer, type Plan, type ServiceSpec, shellLine, xmlEscape } from "./spec.ts";

export const TASK_NAME = "Stratavore";
export const SERVICE_ID = "stratavore";
export const TASK_NS = "http://schemas.microsoft.com/windows/2004/02/mit/task";

/** One argument as CommandLineToArgvW reads it back (backslashes double only before a quote). */
export function windowsQuote(arg: string): string {
  if (arg && !/[\s"]/.test(arg)) return arg;
  let out = '"';
  let slashes = 0;
  for (const ch of arg) {
    if (ch === "\\") {
      slashes++;
      continue;
    }
    out += "\\".repeat(ch === '"' ? slashes * 2 + 1 : slashes) + ch;
    slashes = 0;
  }
  return out + "\\".repeat(slashes * 2) + '"';
}

/** Options of the program itself, which must come before the `daemon` command (positional options). */
const GLOBAL_FLAGS = new Set(["--home", "--url", "--token", "--log-level", "--log-format"]);

/**
 * A task has no environment of its own, so settings travel as flags; those without a flag (Telegram) are
 * named in `left` for the user to keep in config.json or in the user's environment (setx).
 */
export function taskCommandLine(spec: ServiceSpec): { command: string; args: string[]; left: string[] } {
  const at = spec.command.lastIndexOf("daemon");
  const before = spec.command.slice(1, at);
  const after = spec.command.slice(at);
  const left: string[] = [];
  for (const [name, value] of Object.entries(spec.env)) {
    const meta = (Object.values(SETTINGS) as Setting[]).find((m) => m.env === name);
    const flag = meta && flagName(meta);
    if (!flag) left.push(name);
    else if (GLOBAL_FLAGS.has(flag)) before.push(flag, value);
    else after.push(flag, value);
  }
  return { command: spec.command[0], args: [...before, ...after], left };
}

/** Task Scheduler XML (schema 1.2); registered with `schtasks /Create /XML`, which wants it in UTF-16. */
export function taskXml(spec: ServiceSpec, userId: string): string {
  const { command, args } = taskCommandLine(spec);
  const x = xmlEscape;
  return `<?xml version="1.0" encoding="UTF-16"?>
<Task version="1.2" xmlns="${TASK_NS}">
  <RegistrationInfo>
    <Author>${x(userId)}</Author>
    <Description>Stratavore control plane for AI coding-agent sessions</Description>
    <URI>\\${TASK_NAME}</URI>
  </RegistrationInfo>
  <Triggers>
    <LogonTrigger>
      <Enabled>true</Enabled>
      <UserId>${x(userId)}</UserId>
    </LogonTrigger>
  </Triggers>
  <Principals>
    <Principal id="Author">
      <UserId>${x(userId)}</UserId>
      <LogonType>InteractiveToken</LogonType>
      <RunLevel>LeastPrivilege</RunLevel>
    </Principal>
  </Principals>
  <Settings>
    <MultipleInstancesPolicy>IgnoreNew</MultipleInstancesPolicy>
    <DisallowStartIfOnBatteries>false</DisallowStartIfOnBatteries>
    <StopIfGoingOnBatteries>false</StopIfGoingOnBatteries>
    <AllowHardTerminate>true</AllowHardTerminate>
    <StartWhenAvailable>true</StartWhenAvailable>
    <RunOnlyIfNetworkAvailable>false</RunOnlyIfNetworkAvailable>
    <IdleSettings>
      <StopOnIdleEnd>false</StopOnIdleEnd>
      <RestartOnIdle>false</RestartOnIdle>
    </IdleSettings>
    <AllowStartOnDemand>true</AllowStartOnDemand>
    <Enabled>true</Enabled>
    <Hidden>false</Hidden>
    <RunOnlyIfIdle>false</RunOnlyIfIdle>
    <ExecutionTimeLimit>PT0S</ExecutionTimeLimit>
    <Priority>7</Priority>
    <RestartOnFailure>
      <Interval>PT1M</Interval>
      <Count>999</Count>
    </RestartOnFailure>
  </Settings>
  <Actions Context="Author">
    <Exec>
      <Command>${x(command)}</Command>
      <Arguments>${x(args.map(windowsQuote).join(" "))}</Arguments>
      <WorkingDirectory>${x(spec.home)}</WorkingDirectory>
    </Exec>
  </Actions>
</Task>
`;
}

/** WinSW's configuration; WinSW reads `<its exe name>.xml` from beside itself. */
export function winswXml(spec: ServiceSpec): string {
  const x = xmlEscape;
  const env = Object.entries(spec.env).map(([k, v]) => `  <env name="${x(k)}" value="${x(v)}"/>`);
  // No "--" in XML comments: the flag's name is left out.
  return `<!-- Written by stratavore daemon install (system); WinSW (stratavore-service.exe) reads it. -->
<service>
  <id>${SERVICE_ID}</id>
  <name>Stratavore</name>
  <description>Stratavore control plane for AI coding-agent sessions</description>
  <executable>${x(spec.command[0])}</executable>
  <arguments>${x(spec.command.slice(1).map(windowsQuote).join(" "))}</arguments>
  <workingdirectory>${x(spec.home)}</workingdirectory>
${env.join("\n")}
  <startmode>Automatic</startmode>
  <!-- WinSW stops it with Ctrl+C, which starts the daemon's graceful shutdown. -->
  <stoptimeout>30 sec</stoptimeout>
  <onfailure action="restart" delay="10 sec"/>
  <onfailure action="restart" delay="30 sec"/>
  <resetfailure>1 hour</resetfailure>
  <logpath>${x(spec.logDir)}</logpath>
  <log mode="roll-by-size">
    <sizeThreshold>10240</sizeThreshold>
    <keepFiles>5</keepFiles>
  </log>
</service>
`;
}

export function windowsServiceDir(home: string): string {
  return winPath(home, "service");
}

export function taskPlan(spec: ServiceSpec, dir: string, userId: string): Plan {
  const path = winPath(dir, "stratavore-task.xml");
  const { left } = taskCommandLine(spec);
  const query = ["schtasks", "/Query", "/TN", TASK_NAME, "/FO", "CSV", "/NH"];
  return {
    kind: "scheduled task at logon",
    files: [{ path, text: taskXml(spec, userId), utf16: true }],
    install: [["schtasks", "/Create", "/TN", TASK_NAME, "/XML", path, "/F"], [
      "schtasks",
      "/Run",
      "/TN",
      TASK_NAME,
    ]],
    uninstall: [["schtasks", "/Delete", "/TN", TASK_NAME, "/F"]],
    cleanup: [],
    status: [query],
    // CSV: "\Stratavore","<next run>","Ready|Running|Disabled"
    parse: ([r]) => {
      const state = /"([^"]*)"\s*$/.exec(r?.stdout.trim() ?? "")?.[1] ?? "";
      return {
        enabled: answer(
          r,
          (_t, c) => c !== 0 ? "not registered" : state === "Disabled" ? "disabled" : "enabled",
        ),
        running: answer(r, (_t, c) => c === 0 && state === "Running" ? "running" : "not running"),
      };
    },
    notes: [
      `logs: ${spec.logDir}\\daemon.log`,
      ...(left.length
        ? [
          `not passed to the task (it has no environment): ${
            left.join(", ")
          }; keep them in config.json or setx`,
        ]
        : []),
    ],
    uninstallNotes: [],
  };
}

export function winswPlan(spec: ServiceSpec, dir: string): Plan {
  const exe = winPath(dir, "stratavore-service.exe");
  const ps = (args: string[]) => `& ${shellLine([exe])} ${args.join(" ")}`;
  return {
    kind: "Windows service (WinSW)",
    files: [{ path: winPath(dir, "stratavore-service.xml"), text: winswXml(spec) }],
    install: [],
    uninstall: [[exe, "stop"], [exe, "uninstall"]],
    cleanup: [],
    status: [["sc.exe", "query", SERVICE_ID], ["sc.exe", "qc", SERVICE_ID]],
    parse: ([query, qc]) => ({
      enabled: answer(
        qc,
        (t, c) => c !== 0 ? "not installed" : /AUTO_START/.test(qc!.stdout) ? "enabled" : t || "disabled",
      ),
      running: answer(
        query,
        (_t, c) =>
          c !== 0
            ? "not installed"
            : /STATE\s*:\s*\d+\s+(\w+)/.exec(query!.stdout)?.[1]?.toLowerCase() ?? "unknown",
      ),
    }),
    notes: [
      "to finish, as an administrator:",
      "  1. download WinSW-x64.exe from https://github.com/winsw/winsw/releases",
      `  2. save it as ${exe} (beside stratavore-service.xml)`,
      `  3. in an elevated PowerShell: ${ps(["install"])}`,
      `  4. then: ${ps(["start"])}`,
      `logs: ${spec.logDir}`,
    ],
    uninstallNotes: [`if the service is still registered: sc.exe delete ${SERVICE_ID} (elevated PowerShell)`],
  };
}
