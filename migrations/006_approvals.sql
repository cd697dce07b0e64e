-- 006: Claude Code's hooks, answered. A session's permission requests can be approved or denied from the API,
-- the CLI, the web page or Telegram (per project: off, notify only, or remote answers); the activity states
-- follow every hook; sessions Stratavore did not launch are tracked as observed runners once its hooks are
-- installed machine-wide.

ALTER TABLE runners DROP CONSTRAINT runners_activity_check;
ALTER TABLE runners ADD CONSTRAINT runners_activity_check
  CHECK (activity IN ('busy', 'waiting_for_input', 'idle', 'error', 'compacting', 'ended'));
ALTER TABLE runners DROP CONSTRAINT runners_mode_check;
ALTER TABLE runners ADD CONSTRAINT runners_mode_check
  CHECK (mode IN ('interactive', 'headless', 'pty', 'observed'));

-- Remote answers to permission requests: 'off' (not shown elsewhere), 'notify' (shown, answered in the
-- terminal), 'remote' (answerable from anywhere until the timeout; the terminal can always answer first).
ALTER TABLE projects
  ADD COLUMN approvals text NOT NULL DEFAULT 'notify' CHECK (approvals IN ('off', 'notify', 'remote')),
  ADD COLUMN approval_timeout_seconds integer NOT NULL DEFAULT 300
    CHECK (approval_timeout_seconds BETWEEN 5 AND 86400);

CREATE TABLE permission_requests (
  id            bigserial PRIMARY KEY,
  runner_id     bigint NOT NULL REFERENCES runners(id) ON DELETE CASCADE,
  session_id    text NOT NULL,
  tool_name     text NOT NULL,
  -- The tool's input, cut to a bounded size, and one line saying what it would do.
  tool_input    jsonb NOT NULL DEFAULT '{}',
  summary       text NOT NULL,
  prompt        text,
  remote        boolean NOT NULL,
  status        text NOT NULL DEFAULT 'pending'
                CHECK (status IN ('pending', 'allowed', 'denied', 'answered_in_terminal', 'expired')),
  requested_at  timestamptz NOT NULL DEFAULT now(),
  expires_at    timestamptz NOT NULL,
  answered_at   timestamptz,
  -- Who answered (admin, a Telegram user, the terminal) and through what (api, cli, web, telegram, terminal).
  answered_by   text,
  channel       text,
  message       text,
  -- The daemon holding the session's hook request, which gives Claude Code the answer.
  daemon_id     text
);
CREATE INDEX permission_requests_pending ON permission_requests (runner_id) WHERE status = 'pending';

-- Tokens of machine-wide hooks (`stratavore hooks install`): they may only report observed sessions.
CREATE TABLE observer_tokens (
  id            bigserial PRIMARY KEY,
  token_sha256  text NOT NULL UNIQUE,
  host          text NOT NULL,
  created_at    timestamptz NOT NULL DEFAULT now(),
  revoked_at    timestamptz
);

-- An observed runner is found by its session (its hooks carry no runner id).
CREATE INDEX runners_observed_session ON runners (session_id) WHERE mode = 'observed';

-- Telegram messages may carry inline buttons (Approve / Deny); such a message is always sent on its own.
ALTER TABLE notifications ADD COLUMN buttons jsonb;
