/** Launch a detached runner: project, prompt, extra arguments; the API's refusal is shown as it says it. */
import { useState } from "preact/hooks";
import { html } from "htm/preact";
import { api, type ApiError } from "../api.ts";
import { Empty, ErrorBox } from "../components.ts";
import { splitArgs } from "../format.ts";
import { navigate } from "../router.ts";
import { fleet, useFleet } from "../store.ts";

const REFUSALS: Record<string, string> = {
  conflict: "Refused: the worktree's branch or folder is taken",
  bad_request: "Refused: the launch cannot be made as asked",
  quota_exceeded: "Refused: the project's runner quota is full",
  budget_exceeded: "Refused: a budget is used up",
  not_found: "Refused: no such project",
};

export function LaunchPage({ project: initial }: { project?: string }) {
  const f = useFleet();
  const [project, setProject] = useState(initial ?? "");
  const [prompt, setPrompt] = useState("");
  const [args, setArgs] = useState("");
  const [busy, setBusy] = useState(false);
  // null: as the project says (its worktree setting); true/false: this launch's choice.
  const [worktree, setWorktree] = useState<boolean | null>(null);
  const [wtName, setWtName] = useState("");
  const [wtBase, setWtBase] = useState("");
  const [error, setError] = useState<ApiError | Error | null>(null);
  const chosen = project || f.projects[0]?.name || "";
  const projectAuto = f.projects.find((p) => p.name === chosen)?.worktree === "auto";
  const inWorktree = worktree ?? projectAuto;

  const submit = async (e: Event) => {
    e.preventDefault();
    setError(null);
    let list: string[];
    try {
      list = splitArgs(args);
    } catch (err) {
      setError(new Error(`Extra arguments: ${(err as Error).message}`));
      return;
    }
    if (!prompt.trim()) {
      setError(new Error("A detached run needs a prompt."));
      return;
    }
    setBusy(true);
    try {
      const answer = await api.launch({
        project: chosen,
        prompt,
        spawn: true,
        ...(list.length ? { args: list } : {}),
        ...(inWorktree
          ? {
            worktree: {
              ...(wtName.trim() ? { name: wtName.trim() } : {}),
              ...(wtBase.trim() ? { base: wtBase.trim() } : {}),
            },
          }
          : worktree === false && projectAuto
          ? { worktree: false as const }
          : {}),
      });
      if ("queued" in answer) {
        // Held for a subscription window's reset: the fleet page shows the queue.
        await fleet.refreshProjects();
        navigate("#/");
        return;
      }
      fleet.upsert(answer.runner);
      navigate(`#/runners/${answer.runner.id}`);
    } catch (err) {
      setError(err as ApiError);
    } finally {
      setBusy(false);
    }
  };

  if (f.loaded && f.projects.length === 0) {
    return html`
      <section>
        <h1>Launch</h1>
        <${Empty}>No projects yet: create one with
            <code>stratavore new NAME --path DIR</code>.</${Empty}></section>
    `;
  }
  const code = error && "code" in error ? (error as ApiError).code : "";
  return html`
    <section aria-labelledby="launch-title">
      <div class="page-head">
        <h1 id="launch-title">Launch a detached runner</h1>
      </div>
      <form class="card form" onSubmit=${submit} aria-describedby="launch-help">
        <p id="launch-help" class="muted small">The daemon starts the project's command
            (<code>claude -p PROMPT --output-format stream-json</code>) on its own machine, in the background.
            The project's quota and budgets are checked first.</p>
        <div class="field">
          <label for="launch-project">Project</label>
          <select id="launch-project" name="project" required value=${chosen}
            onChange=${(e: Event) => setProject((e.target as HTMLSelectElement).value)}>
              ${f.projects.map((p) =>
                html`<option value=${p.name}>${p.name} (${
                  f.activeIn(p.name)
                } / ${p.maxRunners} active)</option>`
              )}
            </select>
        </div>
        <div class="field">
          <label for="launch-prompt">Prompt</label>
          <textarea id="launch-prompt" name="prompt" rows="5" required value=${prompt}
            placeholder="Fix the failing tests"
            onInput=${(e: Event) => setPrompt((e.target as HTMLTextAreaElement).value)}></textarea>
        </div>
        <div class="field">
          <label for="launch-args">Extra arguments <span class="muted">(optional)</span></label>
          <input id="launch-args" name="args" value=${args} placeholder="--model opus" autocomplete="off"
            aria-describedby="launch-args-help"
            onInput=${(e: Event) => setArgs((e.target as HTMLInputElement).value)} />
          <p id="launch-args-help" class="muted small">Passed to the command after the project's own arguments;
              quote words that contain spaces.</p>
        </div>
        <fieldset class="field worktree-choice">
          <legend>Worktree</legend>
          <label class="check"><input type="checkbox" id="launch-worktree" name="worktree" checked=${inWorktree}
            onChange=${(e: Event) => setWorktree((e.target as HTMLInputElement).checked)} />
            Run in a git worktree of its own (its own branch, so parallel runs never edit the same files)</label>
          ${inWorktree
            ? html`
              <div class="field-row">
                <div class="field">
                  <label for="launch-wt-name">Name <span class="muted">(optional: the runner's id)</span></label>
                  <input id="launch-wt-name" name="worktreeName" value=${wtName} placeholder="fix-login"
                    autocomplete="off" pattern="[A-Za-z0-9][A-Za-z0-9._-]{0,62}"
                    onInput=${(e: Event) => setWtName((e.target as HTMLInputElement).value)} />
                </div>
                <div class="field">
                  <label for="launch-wt-base">Base <span class="muted">(optional: the folder's HEAD)</span></label>
                  <input id="launch-wt-base" name="worktreeBase" value=${wtBase} placeholder="main"
                    autocomplete="off"
                    onInput=${(e: Event) => setWtBase((e.target as HTMLInputElement).value)} />
                </div>
              </div>
              <p class="muted small">On branch <code>stratavore/${chosen}/${wtName.trim() ||
                "<id>"}</code>; kept
                            after the run when it holds commits or changes, removed otherwise.</p>
            `
            : null}
        </fieldset>
        <${ErrorBox} error=${error} title=${REFUSALS[code] ?? (code ? "The launch failed" : undefined)} />
        <div class="actions">
          <button type="submit" class="primary" disabled=${busy || !chosen}>${busy
            ? "Launching…"
            : "Launch"}</button>
          <a class="button secondary" href="#/">Cancel</a>
        </div>
      </form>
    </section>
  `;
}
