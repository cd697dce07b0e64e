/**
 * A runner's worktree on its page: the branch and its base, how it stands (commits ahead/behind, files
 * changed with +/−, uncommitted changes), and what the session changed, file by file, as readable diffs.
 */
import { useEffect, useState } from "preact/hooks";
import { html } from "htm/preact";
import type { Runner } from "../../../lib/schemas/runner.ts";
import type { FileDiff, RunnerDiff, WorktreeStatus } from "../../../lib/schemas/worktree.ts";
import { api } from "../api.ts";
import { ErrorBox } from "../components.ts";

const STATE_TEXT: Record<string, string> = {
  planned: "being made",
  active: "in use",
  kept: "kept for review",
  removed: "removed",
  reopened: "reopened by a later runner",
};

function statusText(s: WorktreeStatus | null): string {
  if (!s) return "not read yet";
  return `${s.ahead} commit(s) ahead${
    s.behind ? `, ${s.behind} behind` : ""
  } · ${s.files} file(s) +${s.insertions} −${s.deletions}${s.dirty ? " · uncommitted changes" : ""}`;
}

function lineClass(l: string): string {
  if (
    /^(diff --git|index |--- |\+\+\+ |new file|deleted file|similarity|rename |old mode|new mode)/.test(l)
  ) {
    return "d-meta";
  }
  if (l.startsWith("@@")) return "d-hunk";
  if (l.startsWith("+")) return "d-add";
  if (l.startsWith("-")) return "d-del";
  return "d-ctx";
}

function FileView({ f, open }: { f: FileDiff; open: boolean }) {
  const name = f.from ? `${f.from} → ${f.path}` : f.path;
  // The patch without its git header lines: the hunks are what a reader wants.
  const lines = f.patch.replace(/\n$/, "").split("\n");
  const body = lines.slice(Math.max(0, lines.findIndex((l) => l.startsWith("@@"))));
  return html`<details class="diff-file" open=${open} data-diff-file=${f.path}>
    <summary>
      <span class=${`diff-status s-${f.status}`}>${f.status}</span>
      <code class="diff-name">${name}</code>
      <span class="diff-counts">${
    f.binary
      ? "binary"
      : html`<span class="d-add-n">+${f.added ?? 0}</span> <span class="d-del-n">−${f.deleted ?? 0}</span>`
  }</span>
    </summary>
    ${
    f.binary || !f.patch
      ? html`<p class="muted small">${
        f.binary ? "A binary file: no text to show." : "No content change."
      }</p>`
      : html`<pre class="diff" role="region" aria-label=${`Changes in ${f.path}`}>${
        body.map((l, i) => html`<span key=${i} class=${lineClass(l)}>${l}</span>`)
      }</pre>`
  }
  </details>`;
}

export function WorktreePanel({ runner }: { runner: Runner }) {
  const w = runner.worktree!;
  const [diff, setDiff] = useState<RunnerDiff | null>(null);
  const [error, setError] = useState<Error | null>(null);
  const made = Boolean(w.path && w.baseSha);
  // Read again whenever the agent reports a new status (a file changed, a commit).
  const key = `${w.state}:${w.status?.at ?? ""}`;
  useEffect(() => {
    if (!made) return;
    let cancelled = false;
    api.runnerDiff(runner.id)
      .then((d) => {
        if (!cancelled) {
          setDiff(d);
          setError(null);
        }
      })
      .catch((e) => !cancelled && setError(e));
    return () => {
      cancelled = true;
    };
  }, [runner.id, key]);
  return html`<section class="card worktree" aria-labelledby="worktree-title" data-worktree=${w.state}>
    <div class="section-head">
      <h2 id="worktree-title">Worktree</h2>
      <span class="muted small">${STATE_TEXT[w.state] ?? w.state}</span>
    </div>
    <dl class="details">
      <div class="detail"><dt>Branch</dt><dd><code>${w.branch}</code></dd></div>
      <div class="detail"><dt>Base</dt><dd>${w.base ?? "the folder's HEAD"}${
    w.baseSha
      ? html`
        <code class="muted">${w.baseSha.slice(0, 12)}</code>
      `
      : null
  }</dd></div>
      <div class="detail"><dt>Changes</dt><dd data-worktree-status>${statusText(w.status)}</dd></div>
      <div class="detail"><dt>Folder</dt><dd><code>${w.path ?? "–"}</code>${
    w.host
      ? html`
        <span class="muted small">on ${w.host}</span>
      `
      : null
  }</dd></div>
      ${
    w.note
      ? html`
        <div class="detail">
          <dt>Note</dt>
          <dd>${w.note}</dd>
        </div>
      `
      : null
  }
    </dl>
    <${ErrorBox} error=${error} title="No diff" />
    ${
    diff
      ? diff.files.length === 0
        ? html`<p class="muted">No changes against the base.</p>`
        : html`<div class="diff-files">
          <p class="muted small">${diff.files.length} file(s) changed against ${diff.base ?? "the base"}, ${
          diff.source === "worktree" ? "committed and uncommitted" : "committed (the worktree is gone)"
        }${diff.truncated ? "; the largest part was cut: use stratavore diff for the rest" : ""}.</p>
          ${diff.files.map((f) => html`<${FileView} key=${f.path} f=${f} open=${diff.files.length <= 10} />`)}
        </div>`
      : null
  }
  </section>`;
}
