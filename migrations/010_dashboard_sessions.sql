-- Dashboard sessions (what a sign-in code or a pasted admin token is exchanged for) outlive a daemon
-- restart and are shared by every daemon on one database. Only hashes are kept: a copy of the table
-- does not sign anyone in.
CREATE TABLE dashboard_sessions (
  token_hash text PRIMARY KEY,
  binding_hash text NOT NULL,
  created_at timestamptz NOT NULL,
  expires_at timestamptz NOT NULL
);
CREATE INDEX dashboard_sessions_expires_at ON dashboard_sessions (expires_at);
