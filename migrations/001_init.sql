-- 001: the whole schema of the mission. Runs unchanged on PGlite and on PostgreSQL.

CREATE TABLE projects (
  id            bigserial PRIMARY KEY,
  name          text NOT NULL UNIQUE CHECK (name ~ '^[a-z0-9][a-z0-9._-]{0,62}$'),
  path          text NOT NULL,
  description   text NOT NULL DEFAULT '',
  max_runners   integer NOT NULL DEFAULT 5 CHECK (max_runners >= 0),
  command       text NOT NULL DEFAULT 'claude',
  command_args  jsonb NOT NULL DEFAULT '[]',
  created_at    timestamptz NOT NULL DEFAULT now(),
  updated_at    timestamptz NOT NULL DEFAULT now()
);

-- The daemons sharing this database (one per machine in the scale-out setup).
CREATE TABLE daemons (
  id            text PRIMARY KEY,
  url           text NOT NULL,
  host          text NOT NULL,
  version       text NOT NULL,
  started_at    timestamptz NOT NULL DEFAULT now(),
  last_seen_at  timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE runners (
  id                 bigserial PRIMARY KEY,
  project_id         bigint NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
  state              text NOT NULL DEFAULT 'starting'
                     CHECK (state IN ('starting', 'running', 'stopping', 'stopped', 'failed', 'killed')),
  -- What the agent learnt from Claude Code's hooks while running.
  activity           text CHECK (activity IN ('busy', 'waiting_for_input', 'idle')),
  mode               text NOT NULL DEFAULT 'interactive' CHECK (mode IN ('interactive', 'headless', 'pty')),
  command            text NOT NULL,
  args               jsonb NOT NULL DEFAULT '[]',
  cwd                text NOT NULL,
  labels             jsonb NOT NULL DEFAULT '{}',
  prompt             text,
  daemon_id          text,
  host               text,
  pid                integer,
  exit_code          integer,
  exit_signal        text,
  reason             text,
  stop_requested_at  timestamptz,
  session_id         text,
  created_at         timestamptz NOT NULL DEFAULT now(),
  started_at         timestamptz,
  ended_at           timestamptz,
  updated_at         timestamptz NOT NULL DEFAULT now(),
  last_heartbeat_at  timestamptz,
  heartbeat_count    bigint NOT NULL DEFAULT 0,
  cpu_percent        real,
  rss_bytes          bigint,
  tokens_input       bigint NOT NULL DEFAULT 0,
  tokens_output      bigint NOT NULL DEFAULT 0,
  tokens_cache_creation bigint NOT NULL DEFAULT 0,
  tokens_cache_read  bigint NOT NULL DEFAULT 0
);
CREATE INDEX runners_project ON runners (project_id, id);
CREATE INDEX runners_active ON runners (project_id) WHERE state IN ('starting', 'running', 'stopping');
CREATE INDEX runners_session ON runners (session_id) WHERE session_id IS NOT NULL;

-- Only the SHA-256 of each runner's token is kept; the token itself is shown once, at launch.
CREATE TABLE agent_tokens (
  runner_id     bigint PRIMARY KEY REFERENCES runners(id) ON DELETE CASCADE,
  token_sha256  text NOT NULL UNIQUE,
  created_at    timestamptz NOT NULL DEFAULT now(),
  revoked_at    timestamptz
);

-- Heartbeats are folded into one row per runner per minute rather than kept one by one.
CREATE TABLE heartbeat_stats (
  runner_id        bigint NOT NULL REFERENCES runners(id) ON DELETE CASCADE,
  minute           timestamptz NOT NULL,
  samples          integer NOT NULL DEFAULT 0,
  cpu_percent_max  real,
  rss_bytes_max    bigint,
  PRIMARY KEY (runner_id, minute)
);

CREATE TABLE sessions (
  id                 text PRIMARY KEY,
  project_id         bigint NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
  runner_id          bigint REFERENCES runners(id) ON DELETE SET NULL,
  cwd                text NOT NULL,
  model              text,
  message_count      integer NOT NULL DEFAULT 0,
  tokens_input       bigint NOT NULL DEFAULT 0,
  tokens_output      bigint NOT NULL DEFAULT 0,
  tokens_cache_creation bigint NOT NULL DEFAULT 0,
  tokens_cache_read  bigint NOT NULL DEFAULT 0,
  cost_usd           double precision NOT NULL DEFAULT 0,
  resumable          boolean NOT NULL DEFAULT false,
  first_activity_at  timestamptz,
  last_activity_at   timestamptz,
  created_at         timestamptz NOT NULL DEFAULT now(),
  updated_at         timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX sessions_project ON sessions (project_id, last_activity_at DESC);

CREATE TABLE transcripts (
  session_id       text PRIMARY KEY REFERENCES sessions(id) ON DELETE CASCADE,
  store            text NOT NULL DEFAULT 'local',
  location         text NOT NULL,
  bytes            bigint NOT NULL,
  stored_bytes     bigint NOT NULL,
  sha256           text NOT NULL,
  lines            integer NOT NULL,
  stored_at        timestamptz NOT NULL DEFAULT now()
);

-- Usage per UTC day, runner, session and model; every report and counter is a sum over these rows.
CREATE TABLE token_usage (
  day                   date NOT NULL,
  runner_id             bigint NOT NULL REFERENCES runners(id) ON DELETE CASCADE,
  session_id            text NOT NULL DEFAULT '',
  model                 text NOT NULL DEFAULT '',
  project_id            bigint NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
  input_tokens          bigint NOT NULL DEFAULT 0,
  output_tokens         bigint NOT NULL DEFAULT 0,
  cache_creation_tokens bigint NOT NULL DEFAULT 0,
  cache_read_tokens     bigint NOT NULL DEFAULT 0,
  cost_usd              double precision NOT NULL DEFAULT 0,
  PRIMARY KEY (day, runner_id, session_id, model)
);
CREATE INDEX token_usage_project_day ON token_usage (project_id, day);

CREATE TABLE budgets (
  id              bigserial PRIMARY KEY,
  scope           text NOT NULL CHECK (scope IN ('global', 'project', 'runner')),
  scope_ref       text NOT NULL DEFAULT '',
  token_limit     bigint CHECK (token_limit > 0),
  cost_limit_usd  double precision CHECK (cost_limit_usd > 0),
  period          text NOT NULL DEFAULT 'month' CHECK (period IN ('day', 'week', 'month', 'none')),
  timezone        text NOT NULL DEFAULT 'UTC',
  warn_at         jsonb NOT NULL DEFAULT '[80, 95]',
  policy          text NOT NULL DEFAULT 'block' CHECK (policy IN ('block', 'stop')),
  created_at      timestamptz NOT NULL DEFAULT now(),
  updated_at      timestamptz NOT NULL DEFAULT now(),
  UNIQUE (scope, scope_ref),
  CHECK (token_limit IS NOT NULL OR cost_limit_usd IS NOT NULL)
);

-- Running totals of each budget per period; `warned` holds the thresholds already announced.
CREATE TABLE budget_usage (
  budget_id     bigint NOT NULL REFERENCES budgets(id) ON DELETE CASCADE,
  period_start  timestamptz NOT NULL,
  tokens        bigint NOT NULL DEFAULT 0,
  cost_usd      double precision NOT NULL DEFAULT 0,
  warned        jsonb NOT NULL DEFAULT '[]',
  exceeded_at   timestamptz,
  PRIMARY KEY (budget_id, period_start)
);

-- Transactional outbox: every state change inserts its event here in the same transaction.
CREATE TABLE outbox (
  id               bigserial PRIMARY KEY,
  type             text NOT NULL,
  entity_id        text NOT NULL,
  project          text,
  -- Events sharing a key (one runner, one project…) are published in the order they were committed.
  ordering_key     text NOT NULL,
  payload          jsonb NOT NULL,
  created_at       timestamptz NOT NULL DEFAULT now(),
  attempts         integer NOT NULL DEFAULT 0,
  next_attempt_at  timestamptz NOT NULL DEFAULT now(),
  claimed_by       text,
  claimed_until    timestamptz,
  published_at     timestamptz,
  dead_at          timestamptz,
  last_error       text
);
CREATE INDEX outbox_pending ON outbox (id) WHERE published_at IS NULL AND dead_at IS NULL;
CREATE INDEX outbox_pending_key ON outbox (ordering_key, id) WHERE published_at IS NULL AND dead_at IS NULL;
CREATE INDEX outbox_published ON outbox (published_at) WHERE published_at IS NOT NULL;
CREATE INDEX outbox_dead ON outbox (dead_at) WHERE dead_at IS NOT NULL;

-- Telegram messages waiting to be sent, fed from outbox events so none is lost across restarts.
CREATE TABLE notifications (
  id               bigserial PRIMARY KEY,
  event_id         bigint,
  chat_id          text NOT NULL,
  priority         text NOT NULL DEFAULT 'default',
  text             text NOT NULL,
  created_at       timestamptz NOT NULL DEFAULT now(),
  attempts         integer NOT NULL DEFAULT 0,
  next_attempt_at  timestamptz NOT NULL DEFAULT now(),
  claimed_until    timestamptz,
  sent_at          timestamptz,
  failed_at        timestamptz,
  last_error       text,
  UNIQUE (event_id, chat_id)
);
CREATE INDEX notifications_pending ON notifications (chat_id, id) WHERE sent_at IS NULL AND failed_at IS NULL;

CREATE TABLE audit_log (
  id           bigserial PRIMARY KEY,
  at           timestamptz NOT NULL DEFAULT now(),
  actor        text NOT NULL,
  action       text NOT NULL,
  target       text,
  details      jsonb NOT NULL DEFAULT '{}',
  remote_addr  text
);
CREATE INDEX audit_log_at ON audit_log (at);
