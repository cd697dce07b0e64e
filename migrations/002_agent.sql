-- 002: what the agent reports beyond heartbeats: Claude Code activity from hooks, detached logs, and the
-- cumulative usage per runner, session and model (so a retried heartbeat can never count tokens twice).

ALTER TABLE runners
  ADD COLUMN activity_detail text,
  ADD COLUMN activity_at timestamptz,
  ADD COLUMN log_path text;

CREATE TABLE runner_usage (
  runner_id          bigint NOT NULL REFERENCES runners(id) ON DELETE CASCADE,
  session_id         text NOT NULL,
  model              text NOT NULL,
  input_tokens       bigint NOT NULL DEFAULT 0,
  output_tokens      bigint NOT NULL DEFAULT 0,
  cache_creation_tokens bigint NOT NULL DEFAULT 0,
  cache_creation_1h_tokens bigint NOT NULL DEFAULT 0,
  cache_read_tokens  bigint NOT NULL DEFAULT 0,
  messages           integer NOT NULL DEFAULT 0,
  updated_at         timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (runner_id, session_id, model)
);

CREATE INDEX runner_usage_session ON runner_usage (session_id);

ALTER TABLE token_usage ADD COLUMN cache_creation_1h_tokens bigint NOT NULL DEFAULT 0;
