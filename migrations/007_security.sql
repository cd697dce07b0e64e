-- Issue 15 (security hardening).

-- Windows exit codes are unsigned 32-bit (a crash is 0xC0000005 = 3221225477): integer could not hold
-- them, so the real exit of such a runner was lost with a 500.
ALTER TABLE runners ALTER COLUMN exit_code TYPE bigint;

-- The newest accepted heartbeat signature time of each runner (milliseconds since the epoch). Kept in the
-- database rather than in a daemon's memory, so that a heartbeat captured before a restart is refused
-- after it, by this daemon or any other sharing the database.
ALTER TABLE agent_tokens ADD COLUMN last_signed_ms bigint NOT NULL DEFAULT 0;
