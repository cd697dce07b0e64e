-- 005: Claude Code's own figures beside the transcript counts. The sessions a runner starts export their
-- cost and token counters (OpenTelemetry), and a headless run's result event reports them per model: what
-- Stratavore shows as a cost is Claude Code's own wherever it reported one, the price table's estimate
-- only where it did not, and the transcript counts are the cross-check.

-- How the runner's Claude Code telemetry is set up: 'stratavore' (exported to this daemon), 'user' (the
-- user's own exporter, left alone; telemetry_endpoint says where), 'off'; null for other commands.
ALTER TABLE runners
  ADD COLUMN telemetry text CHECK (telemetry IN ('stratavore', 'user', 'off')),
  ADD COLUMN telemetry_endpoint text,
  -- What the runner cost: cost_usd in all, of which cost_reported_usd is Claude Code's own figure (the
  -- rest is estimated); unpriced_tokens are tokens of models with neither a report nor a price.
  ADD COLUMN cost_usd double precision NOT NULL DEFAULT 0,
  ADD COLUMN cost_reported_usd double precision NOT NULL DEFAULT 0,
  ADD COLUMN unpriced_tokens bigint NOT NULL DEFAULT 0;

-- The latest value of every cumulative series a runner reported: telemetry counters (one per attribute
-- set, restarted by a new process: start_ns) and the result event's per-model totals. Values only grow;
-- per (session, model, kind) a source's series are summed and the larger source wins.
CREATE TABLE reported_series (
  runner_id   bigint NOT NULL REFERENCES runners(id) ON DELETE CASCADE,
  source      text NOT NULL CHECK (source IN ('telemetry', 'result')),
  series      text NOT NULL,
  start_ns    text NOT NULL,
  session_id  text NOT NULL,
  model       text NOT NULL,
  kind        text NOT NULL CHECK (kind IN ('cost', 'input', 'output', 'cacheRead', 'cacheCreation')),
  value       double precision NOT NULL CHECK (value >= 0),
  updated_at  timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (runner_id, source, series, start_ns)
);

-- Per runner, session and model: the table-price estimate of the transcript tokens, Claude Code's reported
-- figures (null until one arrives), and the parts of the cost already booked into token_usage.
ALTER TABLE runner_usage
  ADD COLUMN estimated_cost_usd double precision NOT NULL DEFAULT 0,
  ADD COLUMN priced boolean NOT NULL DEFAULT true,
  ADD COLUMN reported_cost_usd double precision,
  ADD COLUMN reported_input_tokens bigint,
  ADD COLUMN reported_output_tokens bigint,
  ADD COLUMN reported_cache_read_tokens bigint,
  ADD COLUMN reported_cache_creation_tokens bigint,
  ADD COLUMN booked_reported_usd double precision NOT NULL DEFAULT 0,
  ADD COLUMN booked_estimated_usd double precision NOT NULL DEFAULT 0,
  ADD COLUMN booked_unpriced_tokens bigint NOT NULL DEFAULT 0;

-- cost_usd stays the cost of each row: reported_cost_usd (Claude Code's own) + estimated_cost_usd (the
-- price table's); unpriced_tokens had neither.
ALTER TABLE token_usage
  ADD COLUMN reported_cost_usd double precision NOT NULL DEFAULT 0,
  ADD COLUMN estimated_cost_usd double precision NOT NULL DEFAULT 0,
  ADD COLUMN unpriced_tokens bigint NOT NULL DEFAULT 0;

ALTER TABLE sessions
  ADD COLUMN cost_reported_usd double precision NOT NULL DEFAULT 0,
  ADD COLUMN unpriced_tokens bigint NOT NULL DEFAULT 0;

-- Costs booked before this migration were estimates.
UPDATE token_usage SET estimated_cost_usd = cost_usd;
UPDATE runner_usage ru SET
  estimated_cost_usd = t.cost, booked_estimated_usd = t.cost
FROM (SELECT runner_id, session_id, model, sum(cost_usd) AS cost FROM token_usage
      GROUP BY runner_id, session_id, model) t
WHERE t.runner_id = ru.runner_id AND t.session_id = ru.session_id AND t.model = ru.model;
UPDATE runners r SET cost_usd = t.cost
FROM (SELECT runner_id, sum(cost_usd) AS cost FROM token_usage GROUP BY runner_id) t
WHERE t.runner_id = r.id;

-- Claude Code's API requests and errors, from its `api_request` / `api_error` events: one row each
-- (event_seq is Claude Code's event sequence, so a repeated export is recorded once).
CREATE TABLE api_calls (
  runner_id     bigint NOT NULL REFERENCES runners(id) ON DELETE CASCADE,
  event_seq     bigint NOT NULL,
  kind          text NOT NULL CHECK (kind IN ('request', 'error')),
  session_id    text NOT NULL,
  model         text NOT NULL,
  request_id    text,
  at            timestamptz NOT NULL,
  day           date NOT NULL,
  duration_ms   bigint NOT NULL DEFAULT 0,
  cost_usd      double precision NOT NULL DEFAULT 0,
  input_tokens  bigint NOT NULL DEFAULT 0,
  output_tokens bigint NOT NULL DEFAULT 0,
  cache_read_tokens bigint NOT NULL DEFAULT 0,
  cache_creation_tokens bigint NOT NULL DEFAULT 0,
  status_code   integer,
  error         text,
  PRIMARY KEY (runner_id, session_id, event_seq)
);
CREATE INDEX api_calls_session ON api_calls (session_id);
CREATE INDEX api_calls_day ON api_calls (day);
