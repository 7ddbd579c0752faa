-- On-site rounds (sqlite): the address allow-list, contestants' seats and the
-- one session each contestant may use during the round (docs/competitions.md).

-- A round held on site: when enabled, a contestant's requests for the round
-- must come from an address inside one of the CIDRs (comma-separated,
-- normalised: 10.1.0.0/16,2001:db8::/32), and from their one bound session.
CREATE TABLE onsite_rounds (
    round_id BIGINT PRIMARY KEY REFERENCES rounds(id) ON DELETE CASCADE,
    enabled BIGINT NOT NULL DEFAULT 0,
    allow TEXT NOT NULL DEFAULT '',
    updated_by BIGINT,
    updated_at BIGINT NOT NULL
);

-- Where a contestant sits: a room (its name) and a seat number in it.
CREATE TABLE onsite_seats (
    round_id BIGINT NOT NULL REFERENCES rounds(id) ON DELETE CASCADE,
    student_id BIGINT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    team_id BIGINT NOT NULL REFERENCES teams(id) ON DELETE CASCADE,
    room TEXT NOT NULL,
    seat BIGINT NOT NULL,
    PRIMARY KEY (round_id, student_id),
    UNIQUE (round_id, room, seat)
);

-- The one session a contestant uses during an on-site round (by its token's
-- hash, as in sessions), bound at the seat; a proctor's release deletes it.
CREATE TABLE onsite_sessions (
    round_id BIGINT NOT NULL REFERENCES rounds(id) ON DELETE CASCADE,
    user_id BIGINT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    token_hash TEXT NOT NULL,
    address TEXT NOT NULL,
    bound_at BIGINT NOT NULL,
    PRIMARY KEY (round_id, user_id)
);
