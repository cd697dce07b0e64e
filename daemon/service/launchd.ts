/** macOS: a launchd agent (LaunchAgents) or, with --system, a daemon (LaunchDaemons). Pure: spec in, plist out. */
import { homePathFor } from "../../lib/home.ts";
import { answer, type Plan, type ServiceSpec, xmlEscape } from "./spec.ts";

export const LABEL = "dev.stratavore.daemon";

export function launchdPlistPath(system: boolean, userHome: string): string {
  return system ? `/Library/LaunchDaemons/${LABEL}.plist` : `${userHome}/Library/LaunchAgents/${LABEL}.plist`;
}

const str = (s: string) => `<string>${xmlEscape(s)}</string>`;

export function launchdPlist(spec: ServiceSpec): string {
  const env = Object.entries(spec.env).map(([k, v]) => `\t\t<key>${xmlEscape(k)}</key>\n\t\t${str(v)}`);
  return [
    '<?xml version="1.0" encoding="UTF-8"?>',
    '<!DOCTYPE plist PUBLIC "-//Apple//DTD PLIST 1.0//EN" "http://www.apple.com/DTDs/PropertyList-1.0.dtd">',
    "<!-- Written by `stratavore daemon install`; `stratavore daemon uninstall` removes it. -->",
    '<plist version="1.0">',
    "<dict>",
    "\t<key>Label</key>",
    `\t${str(LABEL)}`,
    "\t<key>ProgramArguments</key>",
    "\t<array>",
    ...spec.command.map((a) => `\t\t${str(a)}`),
    "\t</array>",
    "\t<key>EnvironmentVariables</key>",
    "\t<dict>",
    ...env,
    "\t</dict>",
    "\t<key>WorkingDirectory</key>",
    `\t${str(spec.home)}`,
    ...(spec.system ? ["\t<key>UserName</key>", `\t${str(spec.user)}`] : []),
    "\t<key>RunAtLoad</key>",
    "\t<true/>",
    // Restarted when it exits with an error, like systemd's Restart=on-failure; a clean stop stays stopped.
    "\t<key>KeepAlive</key>",
    "\t<dict>",
    "\t\t<key>SuccessfulExit</key>",
    "\t\t<false/>",
    "\t</dict>",
    "\t<key>ThrottleInterval</key>",
    "\t<integer>5</integer>",
    "\t<key>StandardOutPath</key>",
    `\t${str(homePathFor("darwin", spec.logDir, "stdout.log"))}`,
    "\t<key>StandardErrorPath</key>",
    `\t${str(homePathFor("darwin", spec.logDir, "stderr.log"))}`,
    "</dict>",
    "</plist>",
    "",
  ].join("\n");
}

export function launchdPlan(spec: ServiceSpec, path: string): Plan {
  return {
    kind: spec.system ? "launchd daemon" : "launchd agent",
    files: [{ path, text: launchdPlist(spec) }],
    install: [["launchctl", "load", "-w", path]],
    uninstall: [["launchctl", "unload", "-w", path]],
    cleanup: [],
    // `launchctl list LABEL` answers only for a loaded job; its "PID" line is there while it runs.
    status: [["launchctl", "list", LABEL]],
    parse: ([r]) => ({
      enabled: answer(r, (_t, code) => code === 0 ? "loaded" : "not loaded"),
      running: answer(
        r,
        (_t, code) =>
          code !== 0 ? "not running" : /"PID"\s*=\s*\d+/.test(r!.stdout) ? "running" : "not running",
      ),
    }),
    notes: [`logs: ${spec.logDir}/daemon.log`],
    uninstallNotes: [],
  };
}
