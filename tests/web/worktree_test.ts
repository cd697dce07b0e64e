/**
 * Worktrees on the web in headless Chromium: the launch form starts a detached run in a worktree of its
 * own (on a real git repository); the runner page shows its branch, how it stands, and the diff file by file.
 */
import { assert, assertEquals, assertMatch, eventually } from "../helpers/assert.ts";
import { eachDaemon } from "../helpers/daemon.ts";
import { CI } from "../helpers/env.ts";
import { removeDir } from "../helpers/fs.ts";
import { gitRepo } from "../helpers/git.ts";
import { chromiumAvailable, signIn, withBrowser } from "./browser.ts";

const ignore = !chromiumAvailable() && !CI;

eachDaemon(
  "web: the launch form's worktree option, and the runner page's branch, status and diff",
  async (t) => {
    const { daemon, client } = t;
    const repo = await gitRepo();
    // sh -c SCRIPT PROMPT: the prompt is $0; the run edits a file, adds one, and waits to be stopped.
    await client.createProject({
      name: "webwt",
      path: repo,
      command: "sh",
      commandArgs: ["-c", "sed -i s/two/deux/ a.txt; printf 'new\\nfile\\n' > added.txt; sleep 600"],
    });
    try {
      await withBrowser(async (b) => {
        const page = await b.newPage();
        await signIn(page, daemon.url, daemon.token);
        await page.goto(`${daemon.url}/#/launch?project=webwt`);
        await eventually(
          async () => (await page.getByLabel("Project").inputValue()) === "webwt",
          10_000,
          "webwt selected",
        );
        await page.getByLabel("Prompt").fill("edit");
        await page.getByLabel(/Run in a git worktree of its own/).check();
        await page.getByLabel(/^Name/).fill("from-web");
        await page.getByRole("button", { name: "Launch" }).click();
        await page.locator("[data-runner-page]").waitFor({ timeout: 15_000 });
        const id = Number(await page.locator("[data-runner-page]").getAttribute("data-runner-page"));
        const r = await client.getRunner(id);
        assertEquals(r.worktree?.branch, "stratavore/webwt/from-web");

        const panel = page.locator(".card.worktree");
        await panel.waitFor({ timeout: 15_000 });
        assertMatch(await panel.innerText(), /stratavore\/webwt\/from-web/);
        await page.locator('[data-diff-file="a.txt"]').waitFor({ timeout: 30_000 });
        await page.locator('[data-diff-file="added.txt"]').waitFor({ timeout: 30_000 });
        // The page follows the agent's status reports (the runners are polled every 3 s).
        await eventually(
          async () =>
            /0 commit\(s\) ahead · 2 file\(s\) \+3 −1 · uncommitted changes/.test(
              await page.locator("[data-worktree-status]").innerText(),
            ),
          15_000,
          "the status on the page",
        );
        const a = page.locator('[data-diff-file="a.txt"]');
        assertMatch(await a.locator("summary").innerText(), /modified[\s\S]*a\.txt[\s\S]*\+1[\s\S]*−1/i);
        assertEquals(await a.locator(".d-del").allInnerTexts(), ["-two"]);
        assertEquals(await a.locator(".d-add").allInnerTexts(), ["+deux"]);
        const added = page.locator('[data-diff-file="added.txt"]');
        assertMatch(await added.locator("summary").innerText(), /added/i);
        assertEquals(await added.locator(".d-add").allInnerTexts(), ["+new", "+file"]);
        // The fleet page shows the worktree in the runner's row.
        await page.goto(`${daemon.url}/#/`);
        const badge = page.locator("[data-worktree-badge]").first();
        await badge.waitFor({ timeout: 15_000 });
        assertMatch(await badge.innerText(), /from-web 2f \+3 −1 \*/);
        await page.goto(`${daemon.url}/#/runners/${id}`);
        await page.locator(".card.worktree").waitFor({ timeout: 15_000 });
        // The project folder itself is untouched.
        assertEquals(await Deno.readTextFile(`${repo}/a.txt`), "one\ntwo\nthree\n");
        await client.killRunner(id);
        await eventually(
          async () => (await client.getRunner(id)).worktree?.state === "kept",
          30_000,
          "kept after the kill",
        );
        await page.locator('[data-worktree="kept"]').waitFor({ timeout: 15_000 });
        assert(true);
      });
    } finally {
      await client.listRunners({ project: "webwt" }).then((rs) =>
        Promise.all(rs.map((r) => client.killRunner(r.id).catch(() => {})))
      );
      await removeDir(repo);
    }
  },
  {
    inProcess: true,
    subprocesses: true,
    ignore,
    only: "pglite",
    env: { STRATAVORE_HEARTBEAT_INTERVAL: "1s" },
  },
);
