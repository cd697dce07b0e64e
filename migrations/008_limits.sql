-- 008: subscription limits. Claude Code reports the 5-hour and weekly windows of a Claude.ai login; every
-- session on that login shares them, so they are kept per account (the login Claude Code reports, else its
-- config folder). Launches may be refused or queued while a window is full; headless runs cut off by the
-- limit are continued after the reset. See docs/limits.md.

CREATE TABLE limit_windows (
  account_key      text NOT NULL,
  account_kind     text NOT NULL CHECK (account_kind IN ('account', 'config_dir')),
  label            text NOT NULL,
  window_name      text NOT NULL CHECK (window_name IN ('five_hour', 'seven_day')),
  utilization      double precision NOT NULL,
  resets_at        timestamptz,
  status           text,
  source           text NOT NULL,
  runner_id        bigint,
  session_id       text,
  updated_at       timestamptz NOT NULL DEFAULT now(),
  -- The highest warning threshold (percent) already announced for the window ending at alerted_reset.
  alerted_percent  integer NOT NULL DEFAULT 0,
  alerted_reset    timestamptz,
  -- The reset a limits.reached event was announced for (once per window).
  reached_reset    timestamptz,
  PRIMARY KEY (account_key, window_name)
);

-- History for charts: a sample when a figure changes (and at most one a minute otherwise).
CREATE TABLE limit_samples (
  id           bigserial PRIMARY KEY,
  account_key  text NOT NULL,
  window_name  text NOT NULL,
  at           timestamptz NOT NULL DEFAULT now(),
  utilization  double precision NOT NULL,
  resets_at    timestamptz,
  status       text
);
CREATE INDEX limit_samples_by_window ON limit_samples (account_key, window_name, at);

-- A runner stopped by the limit: until when, which window, whether Claude Code continues it by itself.
ALTER TABLE runners
  ADD COLUMN limited_until timestamptz,
  ADD COLUMN limited_window text,
  ADD COLUMN limit_account text,
  ADD COLUMN auto_continue boolean,
  -- The runner this one continues (a resumed headless run), and how many resumes the chain has had.
  ADD COLUMN resumed_from bigint;

-- What a launch does while a window is over the threshold or refusing: per project, else the config's.
ALTER TABLE projects
  ADD COLUMN limit_policy text CHECK (limit_policy IN ('allow', 'refuse', 'queue'));

-- Launches waiting for a reset (policy queue), and headless runs to continue after one: started in order,
-- staggered, once the account's windows allow.
CREATE TABLE limit_queue (
  id            bigserial PRIMARY KEY,
  kind          text NOT NULL CHECK (kind IN ('launch', 'resume')),
  project_id    bigint NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
  account_key   text NOT NULL,
  request       jsonb NOT NULL,
  -- resume: the limited runner and its session.
  runner_id     bigint,
  session_id    text,
  not_before    timestamptz,
  status        text NOT NULL DEFAULT 'waiting'
                CHECK (status IN ('waiting', 'started', 'cancelled', 'failed', 'skipped')),
  reason        text,
  started_runner bigint,
  created_at    timestamptz NOT NULL DEFAULT now(),
  started_at    timestamptz
);
CREATE INDEX limit_queue_waiting ON limit_queue (id) WHERE status = 'waiting';
CREATE UNIQUE INDEX limit_queue_one_resume ON limit_queue (runner_id) WHERE kind = 'resume';
