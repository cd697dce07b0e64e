/** Linux: a systemd unit (user unit by default, system unit with --system). Pure: spec in, text out. */
import type { Plan, RunResult, ServiceSpec } from "./spec.ts";

export const UNIT_NAME = "stratavore.service";

export function systemdUnitPath(system: boolean, userHome: string, xdgConfigHome?: string): string {
  if (system) return `/etc/systemd/system/${UNIT_NAME}`;
  return `${xdgConfigHome || `${userHome}/.config`}/systemd/user/${UNIT_NAME}`;
}

/** `%` starts a specifier in every unit setting; doubled, it is a literal percent sign. */
function specifiers(s: string): string {
  return s.replaceAll("%", "%%");
}

/** One word of ExecStart= or Environment=: quoted (C escapes) unless plain; `$` doubled in ExecStart. */
export function systemdQuote(word: string, exec = false): string {
  let s = specifiers(word);
  if (exec) s = s.replaceAll("$", () => "$$"); // a function: "$$" in a replacement string means "$"
  if (/^[\w@+=:,./%$-]+$/.test(s)) return s;
  return `"${s.replaceAll("\\", "\\\\").replaceAll('"', '\\"').replaceAll("\n", "\\n")}"`;
}

export function systemdUnit(spec: ServiceSpec): string {
  const lines = [
    "# Written by `stratavore daemon install`; `stratavore daemon uninstall` removes it.",
    "[Unit]",
    "Description=Stratavore control plane for AI coding-agent sessions",
    // A user manager has no network-online.target; only a system unit can wait for the network.
    ...(spec.system ? ["Wants=network-online.target", "After=network-online.target"] : []),
    "",
    "[Service]",
    "Type=simple",
    ...(spec.system ? [`User=${spec.user}`] : []),
    `WorkingDirectory=${specifiers(spec.home)}`,
    ...Object.entries(spec.env).map(([k, v]) => `Environment=${systemdQuote(`${k}=${v}`)}`),
    `ExecStart=${spec.command.map((w) => systemdQuote(w, true)).join(" ")}`,
    "Restart=on-failure",
    "RestartSec=5",
    // SIGTERM starts the daemon's graceful shutdown (bounded by STRATAVORE_SHUTDOWN_TIMEOUT, 10 s).
    "TimeoutStopSec=30",
    "",
    "[Install]",
    `WantedBy=${spec.system ? "multi-user.target" : "default.target"}`,
    "",
  ];
  return lines.join("\n");
}

/** systemctl's own answer, or "unknown (why)" when it could not tell (no systemd as PID 1, …). */
function systemctlAnswer(r: RunResult | undefined): string {
  if (!r) return "unknown (systemctl not found)";
  if (r.dry) return "unknown";
  const out = r.stdout.trim().split("\n")[0];
  if (out) return out;
  const why = r.stderr.trim().split("\n")[0];
  return why ? `unknown (${why})` : "unknown";
}

export function systemdPlan(spec: ServiceSpec, path: string): Plan {
  const ctl = spec.system ? ["systemctl"] : ["systemctl", "--user"];
  return {
    kind: spec.system ? "systemd system unit" : "systemd user unit",
    files: [{ path, text: systemdUnit(spec) }],
    install: [[...ctl, "daemon-reload"], [...ctl, "enable", "--now", UNIT_NAME]],
    uninstall: [[...ctl, "disable", "--now", UNIT_NAME]],
    cleanup: [[...ctl, "daemon-reload"]],
    status: [[...ctl, "is-enabled", UNIT_NAME], [...ctl, "is-active", UNIT_NAME]],
    parse: ([enabled, active]) => ({ enabled: systemctlAnswer(enabled), running: systemctlAnswer(active) }),
    notes: [
      `logs: ${spec.logDir}/daemon.log (and journalctl ${spec.system ? "" : "--user "}-u stratavore)`,
      ...(spec.system ? [] : [`to keep it running after you log out: loginctl enable-linger ${spec.user}`]),
    ],
    uninstallNotes: [],
  };
}
