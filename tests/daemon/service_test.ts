/**
 * `stratavore daemon install | uninstall | status`: the generated systemd unit, launchd plist, Task
 * Scheduler and WinSW XML (parsed by real tools), the effects through an injected root and runner, and the
 * real CLI under STRATAVORE_SERVICE_ROOT (files only under that folder, commands only printed).
 */
import { FAST_TIER } from "../helpers/env.ts";
import { install, status, uninstall } from "../../daemon/service/install.ts";
import { launchdPlist } from "../../daemon/service/launchd.ts";
import { systemdQuote, systemdUnit } from "../../daemon/service/systemd.ts";
import { taskXml, windowsQuote, winswXml } from "../../daemon/service/windows.ts";
import { assert, assertEquals, assertMatch, assertStringIncludes } from "../helpers/assert.ts";
import { runStratavore } from "../helpers/cli.ts";
import { startDaemon } from "../helpers/daemon.ts";
import { removeDir, tempDir } from "../helpers/fs.ts";
import { ctxFor, DENO, denoDir, ENV, filesUnder, python, SELF, tool } from "../helpers/service.ts";
import { DAEMON_V8_FLAGS, daemonCommand } from "../../lib/self.ts";

// ---- systemd --------------------------------------------------------------------------------------

Deno.test("service: systemd words are quoted for ExecStart (% and $ doubled) and Environment", () => {
  assertEquals(systemdQuote("/usr/bin/deno", true), "/usr/bin/deno");
  assertEquals(systemdQuote("/opt/a b/main.ts", true), '"/opt/a b/main.ts"');
  assertEquals(systemdQuote("50%$HOME", true), "50%%$$HOME");
  assertEquals(systemdQuote('K=a "b" \\c%'), '"K=a \\"b\\" \\\\c%%"');
});

for (const system of [false, true]) {
  const kind = system ? "system" : "user";
  Deno.test(`service: the systemd ${kind} unit passes systemd-analyze verify without a warning`, async () => {
    const dir = await tempDir("stratavore-unit-");
    try {
      // A path with a space and settings with % and $, so the quoting is exercised for real.
      const home = `${dir}/home with space`;
      const { spec } = ctxFor("linux", { system, user: "root", env: { STRATAVORE_HOME: home } });
      spec.command = [DENO, "run", "--allow-all", `${dir}/main 100%.ts`, ...spec.command.slice(5)];
      const unit = systemdUnit(spec);
      assertStringIncludes(unit, "Restart=on-failure");
      assertStringIncludes(unit, system ? "WantedBy=multi-user.target" : "WantedBy=default.target");
      assertEquals(unit.includes("User=root"), system);
      assertStringIncludes(
        unit,
        "Environment=DATABASE_URL=postgres://ada:p%%40ss$word@127.0.0.1:5432/strata\n",
      );
      assertStringIncludes(unit, `Environment="STRATAVORE_HOME=${home}"\n`);
      assertStringIncludes(unit, `"${dir}/main 100%%.ts" daemon --log-file "${home}/logs/daemon.log"\n`);
      await Deno.writeTextFile(`${dir}/stratavore.service`, unit);
      // --man=no/--generators=no: no man pages or generators in a container; a user manager needs a
      // private XDG_RUNTIME_DIR. Warnings ("ignoring") do not change the exit code, so output must be empty.
      await Deno.mkdir(`${dir}/run`, { mode: 0o700 });
      const verify = ["verify", "--man=no", "--generators=no", `${dir}/stratavore.service`];
      const user = system ? [] : ["--user"];
      const r = await tool(["env", `XDG_RUNTIME_DIR=${dir}/run`, "systemd-analyze", ...user, ...verify]);
      assert(r, "env is available");
      assertEquals(r.code, 0, r.stderr);
      assertEquals((r.stdout + r.stderr).trim(), "", "systemd-analyze printed no warning");
    } finally {
      await removeDir(dir);
    }
  });
}

// ---- launchd --------------------------------------------------------------------------------------

Deno.test("service: the launchd plist parses as a property list with the job's keys", async () => {
  const { spec } = ctxFor("darwin");
  const plist = await python(
    "import sys, json, plistlib; print(json.dumps(plistlib.loads(sys.stdin.buffer.read())))",
    launchdPlist(spec),
  ) as Record<string, unknown>;
  assertEquals(plist.Label, "dev.stratavore.daemon");
  assertEquals(plist.ProgramArguments, [
    ...SELF,
    "daemon",
    "--log-file",
    "/home/ada/.stratavore/logs/daemon.log",
  ]);
  assertEquals(plist.EnvironmentVariables, { ...ENV, STRATAVORE_HOME: "/home/ada/.stratavore" });
  assertEquals(plist.RunAtLoad, true);
  assertEquals(plist.KeepAlive, { SuccessfulExit: false });
  assertEquals(plist.StandardOutPath, "/home/ada/.stratavore/logs/stdout.log");
  assertEquals(plist.StandardErrorPath, "/home/ada/.stratavore/logs/stderr.log");
  assert(!("UserName" in plist), "a user agent runs as its user");
});

// ---- Windows --------------------------------------------------------------------------------------

Deno.test("service: Windows arguments are quoted for CommandLineToArgvW, XML values escaped", () => {
  assertEquals(windowsQuote("daemon"), "daemon");
  assertEquals(windowsQuote("C:\\Program Files\\s.exe"), '"C:\\Program Files\\s.exe"');
  assertEquals(windowsQuote('say "hi"'), '"say \\"hi\\""');
  assertEquals(windowsQuote("C:\\a b\\"), '"C:\\a b\\\\"');
  assertEquals(windowsQuote(""), '""');
  // …and what XML must be escaped is.
  const xml = taskXml(ctxFor("windows", { self: ["C:\\a&b\\<s>.exe"] }).spec, "WORK\\a&b");
  assertStringIncludes(xml, "<Command>C:\\a&amp;b\\&lt;s&gt;.exe</Command>");
  assertStringIncludes(xml, "<UserId>WORK\\a&amp;b</UserId>");
});

const TASK_PY = `
import sys, json, xml.etree.ElementTree as ET
raw = sys.stdin.buffer.read()
assert raw[:2] == b"\\xff\\xfe", "UTF-16 LE with a byte order mark"
root = ET.fromstring(raw.decode("utf-16").split("?>", 1)[1])
ns = {"t": "http://schemas.microsoft.com/windows/2004/02/mit/task"}
get = lambda p: root.findtext(p, namespaces=ns)
print(json.dumps({"tag": root.tag, "user": get("t:Triggers/t:LogonTrigger/t:UserId"),
  "logon": get("t:Principals/t:Principal/t:LogonType"), "limit": get("t:Settings/t:ExecutionTimeLimit"),
  "restart": get("t:Settings/t:RestartOnFailure/t:Count"), "command": get("t:Actions/t:Exec/t:Command"),
  "arguments": get("t:Actions/t:Exec/t:Arguments")}))
`;

Deno.test("service: the Windows logon task is written as UTF-16 Task Scheduler XML and registered", async () => {
  const root = await tempDir("stratavore-root-");
  try {
    const exe = "C:\\Tools\\stratavore.exe";
    const { ctx, calls, printed } = ctxFor("windows", { root, self: [exe] });
    assert(await install(ctx));
    const file = `${root}/C/Users/ada/.stratavore/service/stratavore-task.xml`;
    assertEquals(await python(TASK_PY, await Deno.readFile(file)), {
      tag: "{http://schemas.microsoft.com/windows/2004/02/mit/task}Task",
      user: "WORK\\ada",
      logon: "InteractiveToken",
      limit: "PT0S",
      restart: "999",
      command: exe,
      // Tasks have no environment: settings go as flags, program options before `daemon`.
      arguments:
        "--home C:\\Users\\ada\\.stratavore daemon --log-file C:\\Users\\ada\\.stratavore\\logs\\daemon.log " +
        "--listen 127.0.0.1:7999 --database-url postgres://ada:p%40ss$word@127.0.0.1:5432/strata",
    });
    const xml = "C:\\Users\\ada\\.stratavore\\service\\stratavore-task.xml";
    assertEquals(calls, [["schtasks", "/Create", "/TN", "Stratavore", "/XML", xml, "/F"], [
      "schtasks",
      "/Run",
      "/TN",
      "Stratavore",
    ]]);
    assertMatch(printed.join("\n"), /not passed to the task .*TELEGRAM_BOT_TOKEN/);
  } finally {
    await removeDir(root);
  }
});

const WINSW_PY = `
import sys, json, xml.etree.ElementTree as ET
root = ET.fromstring(sys.stdin.read())
log = root.find("log")
print(json.dumps({"tag": root.tag, "id": root.findtext("id"), "executable": root.findtext("executable"),
  "arguments": root.findtext("arguments"), "env": {e.get("name"): e.get("value") for e in root.findall("env")},
  "log": [log.get("mode"), log.findtext("sizeThreshold"), log.findtext("keepFiles")],
  "onfailure": [f.get("action") for f in root.findall("onfailure")], "logpath": root.findtext("logpath")}))
`;

Deno.test("service: --system on Windows writes WinSW's XML and prints the steps to finish", async () => {
  const root = await tempDir("stratavore-root-");
  try {
    const exe = "C:\\Program Files\\Stratavore\\stratavore.exe";
    const { ctx, calls, printed, spec } = ctxFor("windows", { root, system: true, self: [exe] });
    assert(await install(ctx));
    assertEquals(calls, [], "WinSW needs an administrator: nothing is run");
    const file = `${root}/C/Users/ada/.stratavore/service/stratavore-service.xml`;
    const xml = await Deno.readTextFile(file);
    assertEquals(xml, winswXml(spec));
    assertEquals(await python(WINSW_PY, xml), {
      tag: "service",
      id: "stratavore",
      executable: exe,
      arguments: "daemon --log-file C:\\Users\\ada\\.stratavore\\logs\\daemon.log",
      env: { ...ENV, STRATAVORE_HOME: "C:\\Users\\ada\\.stratavore" },
      log: ["roll-by-size", "10240", "5"],
      onfailure: ["restart", "restart"],
      logpath: "C:\\Users\\ada\\.stratavore\\logs",
    });
    const out = printed.join("\n");
    assertStringIncludes(out, "WinSW");
    assertStringIncludes(out, "C:\\Users\\ada\\.stratavore\\service\\stratavore-service.exe install");
    assertStringIncludes(out, "C:\\Users\\ada\\.stratavore\\service\\stratavore-service.exe start");
  } finally {
    await removeDir(root);
  }
});

// ---- effects through the injected root and runner ---------------------------------------------------

Deno.test("service: install runs systemctl in order; uninstall disables, removes, reloads", async () => {
  const root = await tempDir("stratavore-root-");
  try {
    const { ctx, calls } = ctxFor("linux", { root });
    assert(await install(ctx));
    const unit = `${root}/home/ada/.config/systemd/user/stratavore.service`;
    assertEquals((await Deno.stat(unit)).mode! & 0o777, 0o600, "settings may hold passwords");
    assert((await Deno.stat(`${root}/home/ada/.stratavore/logs`)).isDirectory, "the log folder exists");
    assertEquals(calls.splice(0), [
      ["systemctl", "--user", "daemon-reload"],
      ["systemctl", "--user", "enable", "--now", "stratavore.service"],
    ]);
    assert(await uninstall(ctx));
    assertEquals(calls, [
      ["systemctl", "--user", "disable", "--now", "stratavore.service"],
      ["systemctl", "--user", "daemon-reload"],
    ]);
    await Deno.stat(unit).then(() => assert(false, "unit removed"), () => {});
    assertEquals(await uninstall(ctx), false, "a second uninstall finds nothing");
  } finally {
    await removeDir(root);
  }
});

Deno.test("service: without a working systemctl, install says what failed and what to run", async () => {
  const root = await tempDir("stratavore-root-");
  try {
    const missing = ctxFor("linux", { root, system: true, run: () => Promise.resolve(undefined) });
    assertEquals(await install(missing.ctx), false);
    const out = missing.printed.join("\n");
    assertStringIncludes(out, "could not run: systemctl daemon-reload (systemctl is not available here)");
    assertStringIncludes(out, "run it yourself once that is fixed:\n  systemctl daemon-reload\n");
    assertStringIncludes(out, "  systemctl enable --now stratavore.service");
    // systemctl present but no systemd as PID 1 (a container): the first failing command and the rest.
    const refused = {
      code: 1,
      stdout: "",
      stderr: "System has not been booted with systemd as init system.\n",
    };
    const ok = { code: 0, stdout: "", stderr: "" };
    const noBoot = ctxFor("linux", {
      root,
      run: (cmd) => Promise.resolve(cmd.includes("enable") ? refused : ok),
    });
    assertEquals(await install(noBoot.ctx), false);
    assertMatch(noBoot.printed.join("\n"), /could not run: systemctl --user enable --now .*not been booted/);
    const st = await status(noBoot.ctx);
    assertEquals(st.installed, true);
    assertEquals(st.enabled, "unknown");
    const gone = await status(missing.ctx);
    assertEquals([gone.installed, gone.enabled, gone.running], [
      true,
      "unknown (systemctl not found)",
      "unknown (systemctl not found)",
    ]);
  } finally {
    await removeDir(root);
  }
});

Deno.test("service: status reads launchctl and schtasks answers", async () => {
  const answer = (stdout: string, code = 0) => () => Promise.resolve({ code, stdout, stderr: "" });
  const mac = ctxFor("darwin", {
    run: answer('{\n\t"PID" = 4242;\n\t"Label" = "dev.stratavore.daemon";\n};'),
  });
  assertEquals([(await status(mac.ctx)).enabled, (await status(mac.ctx)).running], ["loaded", "running"]);
  const macOff = ctxFor("darwin", { run: answer("", 113) });
  assertEquals((await status(macOff.ctx)).enabled, "not loaded");
  const win = ctxFor("windows", { run: answer('"\\Stratavore","N/A","Running"\r\n') });
  const s = await status(win.ctx);
  assertEquals([s.enabled, s.running, s.installed], ["enabled", "running", false]);
});

// ---- the real CLI -----------------------------------------------------------------------------------

Deno.test({
  name: "service: the real CLI installs, reports and uninstalls under STRATAVORE_SERVICE_ROOT only",
  ignore: Deno.build.os !== "linux",
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    const dir = await tempDir("stratavore-svc-");
    const root = `${dir}/root`;
    const userHome = `${dir}/user`;
    const home = `${dir}/home`;
    await Deno.mkdir(userHome);
    // HOME moves (the user unit goes under it), Deno's cache must not: it stays where it is.
    const env = {
      STRATAVORE_SERVICE_ROOT: root,
      HOME: userHome,
      STRATAVORE_HOME: home,
      DENO_DIR: await denoDir(),
    };
    try {
      const inst = await runStratavore(["daemon", "--listen", "127.0.0.1:7988", "install"], { env });
      assertEquals(inst.code, 0, inst.stderr);
      const unit = `${userHome}/.config/systemd/user/stratavore.service`;
      assertStringIncludes(inst.stdout, `wrote systemd user unit: ${unit}`);
      assertStringIncludes(inst.stdout, "would run: systemctl --user daemon-reload\n");
      assertStringIncludes(inst.stdout, "would run: systemctl --user enable --now stratavore.service\n");
      assertEquals(filesUnder(dir), [`root${unit}`], "only the unit, only under the root");
      const text = await Deno.readTextFile(`${root}${unit}`);
      assertStringIncludes(text, `Environment=STRATAVORE_HOME=${home}\n`);
      assertStringIncludes(text, "Environment=STRATAVORE_LISTEN=127.0.0.1:7988\n");
      assertMatch(
        text,
        new RegExp(`\\nExecStart=\\S+ run --allow-all .*/main\\.ts daemon --log-file ${home}/logs/`),
      );

      const st = await runStratavore(["--json", "daemon", "status"], { env });
      assertEquals(st.code, 0, st.stderr);
      const report = JSON.parse(st.stdout);
      assertEquals([report.installed, report.enabled, report.running], [true, "unknown", "unknown"]);
      assertEquals(report.daemon.answering, false);

      const un = await runStratavore(["daemon", "uninstall"], { env });
      assertEquals(un.code, 0, un.stderr);
      assertStringIncludes(un.stdout, "would run: systemctl --user disable --now stratavore.service\n");
      assertStringIncludes(un.stdout, `removed ${unit}\n`);
      assertEquals(filesUnder(dir), [], "nothing left behind");
    } finally {
      await removeDir(dir);
    }
  },
});

Deno.test({
  name: "service: status finds a running daemon through daemon.json; --log-file gets its lines",
  ignore: FAST_TIER,
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    const home = await tempDir("stratavore-home-");
    const daemon = await startDaemon({ home, args: ["--log-file", `${home}/logs/daemon.log`] });
    try {
      const root = await tempDir("stratavore-root-");
      const r = await runStratavore(["daemon", "status"], {
        env: { STRATAVORE_HOME: home, STRATAVORE_SERVICE_ROOT: root },
      });
      await removeDir(root);
      assertEquals(r.code, 0, r.stderr);
      assertMatch(
        r.stdout,
        new RegExp(`daemon: +answering at ${daemon.url.replaceAll(".", "\\.")} \\(version `),
      );
      assertMatch(r.stdout, /service: .*not installed/);
      const log = await Deno.readTextFile(`${home}/logs/daemon.log`);
      assertMatch(log, /"msg":"stratavore daemon listening on /, "the daemon logs to the file as JSON lines");
    } finally {
      await daemon.stop();
      await removeDir(home);
    }
  },
});

Deno.test("service: the daemon runs with DAEMON_V8_FLAGS on its command line (under deno run)", () => {
  const argv = daemonCommand();
  const flags = argv.find((a) => a.startsWith("--v8-flags="))?.slice("--v8-flags=".length).split(",") ?? [];
  for (const f of DAEMON_V8_FLAGS) assert(flags.includes(f), `${f} in ${argv.join(" ")}`);
  const { spec } = ctxFor("linux", { self: argv });
  assertEquals(spec.command.slice(0, argv.length), argv);
  assert(!("DENO_V8_FLAGS" in spec.env), "flags on the command line, not in the environment");
});
