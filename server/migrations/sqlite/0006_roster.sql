-- Rosters and accounts (SQLite): deactivated accounts, and sessions signed in with a generated password.

-- A deactivated account cannot sign in and has no sessions; it keeps its
-- work and comes back unchanged when reactivated (NULL: active).
ALTER TABLE users ADD COLUMN deactivated_at BIGINT;

-- A session that signed in with a generated one-time password (first sign-in,
-- or after a reset) while the account had to change it: only such a session
-- may set the new password without typing the generated one again.
ALTER TABLE sessions ADD COLUMN fresh_generated BIGINT NOT NULL DEFAULT 0;
