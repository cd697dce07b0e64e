-- 004: budgets may reserve tokens for each active runner, so concurrent launches cannot overspend them:
-- a launch is admitted only while used + reserved (per active runner) + its own reservation fit.

ALTER TABLE budgets ADD COLUMN reserve_tokens bigint NOT NULL DEFAULT 0 CHECK (reserve_tokens >= 0);
CREATE INDEX token_usage_day ON token_usage (day);
