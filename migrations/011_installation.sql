-- The installation: one id per database, made by the first daemon that starts on it (not here, so that
-- databases cloned from a migrated template get ids of their own), shared by every daemon on it. Each API
-- answer carries it, so an agent that finds another installation's daemon at its daemon's address (a port
-- taken while its own was away) does not take that daemon's refusal of its token as its own daemon's word.
CREATE TABLE installation (
  one boolean PRIMARY KEY DEFAULT true CHECK (one),
  id text NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now()
);
