/** Small pieces every page uses: state and activity badges, usage bars, error boxes, a confirm dialog. */
import type { ComponentChildren } from "preact";
import { useEffect, useRef } from "preact/hooks";
import { html } from "htm/preact";
import type { Runner } from "../../lib/schemas/runner.ts";
import { isActive } from "../../lib/runner_states.ts";
import type { ApiError } from "./api.ts";

export function StateBadge({ state }: { state: Runner["state"] }) {
  return html`<span class=${`badge state-${state}`} data-state=${state}>${state}</span>`;
}

export function ActivityBadge({ runner }: { runner: Runner }) {
  if (!runner.activity || !isActive(runner.state)) return null;
  if (runner.activity === "waiting_for_input") {
    return html`<span class="badge waiting" data-activity="waiting_for_input" title=${
      runner.activityDetail ?? ""
    }>waiting for input</span>`;
  }
  return html`<span class=${`badge activity-${runner.activity}`} data-activity=${runner.activity}>${runner.activity}</span>`;
}

/** A labelled bar: used/limit with a colour for ok / warning / exceeded. */
export function Bar(
  { label, value, max, text, state }: {
    label: string;
    value: number;
    max: number;
    text: string;
    state?: "ok" | "warning" | "exceeded";
  },
) {
  const pct = max > 0 ? Math.min(100, (value / max) * 100) : value > 0 ? 100 : 0;
  const level = state ?? (pct >= 100 ? "exceeded" : pct >= 80 ? "warning" : "ok");
  return html`
    <div class="bar-row">
      <div class="bar-label"><span>${label}</span><span class="bar-text">${text}</span></div>
      <div
        class=${`bar bar-${level}`}
        role="progressbar"
        aria-label=${label}
        aria-valuemin="0"
        aria-valuemax=${max}
        aria-valuenow=${Math.min(value, max)}
        aria-valuetext=${text}
      >
        <div class="bar-fill" style=${{ width: `${pct}%` }}></div>
      </div>
    </div>
  `;
}

export function ErrorBox({ error, title }: { error: ApiError | Error | string | null; title?: string }) {
  if (!error) return null;
  const message = typeof error === "string" ? error : error.message;
  const code = typeof error === "object" && "code" in error ? (error as ApiError).code : undefined;
  return html`<div class="error-box" role="alert" data-code=${code ?? ""}>
    ${title ? html`<strong class="error-title">${title}</strong>` : null}
    <p class="error-message">${message}</p>
    ${code ? html`<p class="error-code">error code <code>${code}</code></p>` : null}
  </div>`;
}

/** A modal <dialog>: focus moves into it, Escape cancels, the answer comes back through onClose. */
export function ConfirmDialog(
  { open, title, children, confirmLabel, danger, onClose }: {
    open: boolean;
    title: string;
    children: ComponentChildren;
    confirmLabel: string;
    danger?: boolean;
    onClose: (confirmed: boolean) => void;
  },
) {
  const ref = useRef<HTMLDialogElement>(null);
  useEffect(() => {
    const d = ref.current;
    if (!d) return;
    if (open && !d.open) d.showModal();
    if (!open && d.open) d.close();
  }, [open]);
  // Escape closes a modal dialog natively (Chrome may not let a page cancel that); the close event then
  // tells the parent, so its state always follows the dialog.
  return html`
    <dialog
      ref=${ref}
      class="confirm"
      aria-labelledby="confirm-title"
      onClose=${() => open && onClose(false)}
    >
      <h2 id="confirm-title">${title}</h2>
      <div class="confirm-body">${children}</div>
      <div class="actions">
        <button type="button" class="secondary" onClick=${() => onClose(false)}>Cancel</button>
        <button type="button" class=${danger ? "danger" : "primary"} onClick=${() => onClose(true)}>
            ${confirmLabel}
          </button>
      </div>
    </dialog>
  `;
}

export function Empty({ children }: { children: ComponentChildren }) {
  return html`<p class="empty">${children}</p>`;
}

/** A runner's worktree in a list: its name, commits ahead, files changed, * when uncommitted (title: the branch). */
export function WorktreeBadge({ runner }: { runner: Runner }) {
  const w = runner.worktree;
  if (!w || w.state === "removed" || w.state === "reopened") return null;
  const name = w.branch.slice(w.branch.lastIndexOf("/") + 1);
  const s = w.status;
  const changes = s
    ? [
      s.ahead ? `↑${s.ahead}` : "",
      s.files ? `${s.files}f +${s.insertions} −${s.deletions}` : "",
      s.dirty ? "*" : "",
    ]
      .filter(Boolean).join(" ")
    : "";
  return html`
    <span class="badge worktree-badge" title=${`worktree on branch ${w.branch} (${w.state})`}
      data-worktree-badge=${w.state}>⎇ ${name}${changes ? ` ${changes}` : ""}</span>
  `;
}
