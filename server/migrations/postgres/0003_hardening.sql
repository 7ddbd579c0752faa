-- Hardening: fair throttling, trusted devices, fair queue, settings, last login (PostgreSQL).

-- Failed logins remember which client tried (device cookie, else address)
-- and from which address, so back-off applies to the guesser, not the owner.
ALTER TABLE login_failures ADD COLUMN client TEXT NOT NULL DEFAULT '';
ALTER TABLE login_failures ADD COLUMN ip TEXT NOT NULL DEFAULT '';
-- A try is recorded before its password is checked (so a burst of parallel
-- guesses is counted), as `pending` with its own `attempt` id; a wrong
-- password settles it, a right one deletes it.
ALTER TABLE login_failures ADD COLUMN attempt TEXT NOT NULL DEFAULT '';
ALTER TABLE login_failures ADD COLUMN pending BIGINT NOT NULL DEFAULT 0;
CREATE INDEX login_failures_pair ON login_failures(username, client, at);
CREATE INDEX login_failures_ip ON login_failures(ip, at);
CREATE INDEX login_failures_at ON login_failures(at);

-- A browser that has signed in to an account before (OWASP's device cookie):
-- it is not slowed by other clients' failures on that account or address.
CREATE TABLE trusted_devices (
    device_hash TEXT NOT NULL,
    user_id BIGINT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    created_at BIGINT NOT NULL,
    PRIMARY KEY (device_hash, user_id)
);
CREATE INDEX trusted_devices_user ON trusted_devices(user_id);

-- Usernames are case-insensitive.
CREATE UNIQUE INDEX users_username_lower ON users(lower(username));
ALTER TABLE users ADD COLUMN last_login_at BIGINT;

-- Fair queue: a job's place among its student's (and class's) unfinished jobs
-- when it was submitted; workers take the lowest first.
ALTER TABLE submissions ADD COLUMN fair_student BIGINT NOT NULL DEFAULT 0;
ALTER TABLE submissions ADD COLUMN fair_class BIGINT NOT NULL DEFAULT 0;
CREATE INDEX submissions_fair ON submissions(status, fair_student, fair_class, id);

CREATE INDEX sessions_expires ON sessions(expires_at);

-- Server-wide settings shared by every process on this database (the hidden-case secret).
CREATE TABLE settings (
    key TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
