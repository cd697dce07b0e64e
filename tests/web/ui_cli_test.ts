/**
 * `stratavore ui`: prints a one-time link that signs in once; opens it with the browser named by
 * BROWSER (a stand-in script here) or xdg-open/open/start; with no browser, only prints it.
 */
import { browserOpener } from "../../cli/commands/ui.ts";
import { assert, assertEquals, assertMatch, assertStringIncludes } from "../helpers/assert.ts";
import { runStratavore } from "../helpers/cli.ts";
import { eachDaemon } from "../helpers/daemon.ts";

const exchange = (url: string, code: string) =>
  fetch(`${url}/ui/exchange`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ code }),
  });

Deno.test("ui: how the link is opened on each system", () => {
  const url = "http://127.0.0.1:7890/ui/login#code=abc";
  assertEquals(browserOpener(url, {}, "linux"), undefined, "no display: print only");
  assertEquals(browserOpener(url, { DISPLAY: ":0", PATH: "/nonexistent" }, "linux"), undefined);
  assertEquals(browserOpener(url, {}, "darwin"), { command: "open", args: [url] });
  assertEquals(browserOpener(url, {}, "windows"), {
    command: "cmd.exe",
    args: ["/d", "/c", "start", "", url],
  });
  const sh = browserOpener(url, { BROWSER: "/bin/sh", PATH: "" }, "linux");
  assertEquals(sh, { command: "/bin/sh", args: [url] });
});

eachDaemon("ui: stratavore ui prints a link that works once, and opens it with the browser", async (t) => {
  const { daemon, env } = t;
  const noBrowser = await runStratavore(["ui"], { env });
  assertEquals(noBrowser.code, 0, noBrowser.stderr);
  const m = /(http:\/\/\S+\/ui\/login#code=([A-Za-z0-9_-]{43}))/.exec(noBrowser.stdout);
  assert(m, noBrowser.stdout);
  assert(m[1].startsWith(daemon.url), `${m[1]} is on ${daemon.url}`);
  assertStringIncludes(noBrowser.stderr, "no browser to open here");
  assert(!(noBrowser.stdout + noBrowser.stderr).includes(daemon.token), "the token is never printed");
  const first = await exchange(daemon.url, m[2]);
  assertEquals(first.status, 200);
  assertMatch((await first.json()).token, /^svd_/, "a dashboard session, not the admin token");
  const second = await exchange(daemon.url, m[2]);
  assertEquals(second.status, 401);
  await second.body?.cancel();

  // A browser: BROWSER names a script that records what it was asked to open.
  const opened = `${daemon.home}/opened.txt`;
  const script = `${daemon.home}/fake-browser`;
  await Deno.writeTextFile(script, `#!/bin/sh\nprintf '%s' "$1" > '${opened}'\n`);
  await Deno.chmod(script, 0o755);
  const withBrowser = await runStratavore(["ui"], { env: { ...env, BROWSER: script } });
  assertEquals(withBrowser.code, 0, withBrowser.stderr);
  assertStringIncludes(withBrowser.stderr, "opened in your browser");
  // The opener (whose command line every local user can read) gets a private page, never the code.
  const given = (await Deno.readTextFile(opened)).trim();
  assert(!given.includes("code="), `the opener's argument holds the code: ${given}`);
  assertEquals(given, `file://${daemon.home}/ui-sign-in.html`);
  const page = `${daemon.home}/ui-sign-in.html`;
  assertEquals((await Deno.stat(page)).mode! & 0o777, 0o600);
  const url = /content="0;url=([^"]+)"/.exec(await Deno.readTextFile(page))![1];
  assertMatch(url, /\/ui\/login#code=[A-Za-z0-9_-]{43}$/);
  assertStringIncludes(withBrowser.stdout, url);
  assertEquals((await exchange(daemon.url, url.split("code=")[1])).status, 200);

  // --no-open and --json: the link only.
  const json = await runStratavore(["ui", "--no-open", "--json"], { env: { ...env, BROWSER: script } });
  assertEquals(json.code, 0, json.stderr);
  const out = JSON.parse(json.stdout);
  assertEquals(out.opened, false);
  assertMatch(out.url, /\/ui\/login#code=/);
  assertEquals((await exchange(daemon.url, out.url.split("code=")[1])).status, 200);
}, { inProcess: true, subprocesses: true, only: "pglite", ignore: Deno.build.os === "windows" });
