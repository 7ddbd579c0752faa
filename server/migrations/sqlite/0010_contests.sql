-- Competitions (SQLite): events, divisions, event memberships, teams, rounds;
-- a submission belongs to an assignment or to a contest round (and its team).

-- The region an organiser runs events in (NULL for everyone else).
ALTER TABLE users ADD COLUMN region_id BIGINT REFERENCES regions(id);

CREATE TABLE events (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    name TEXT NOT NULL,
    tier TEXT NOT NULL CHECK (tier IN ('school', 'district', 'city', 'province')),
    kind TEXT NOT NULL CHECK (kind IN ('robot_sim', 'ai', 'ct_quiz', 'creative')),
    -- The organising body: a region, or a school for a school-tier event.
    region_id BIGINT REFERENCES regions(id),
    school_id BIGINT REFERENCES schools(id),
    -- The next tier's event its best teams advance into.
    parent_id BIGINT REFERENCES events(id),
    registration_deadline BIGINT NOT NULL,
    created_by BIGINT NOT NULL,
    created_at BIGINT NOT NULL,
    CHECK ((region_id IS NULL) <> (school_id IS NULL))
);
CREATE INDEX events_parent ON events(parent_id);

CREATE TABLE event_divisions (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    event_id BIGINT NOT NULL REFERENCES events(id) ON DELETE CASCADE,
    name TEXT NOT NULL,
    min_grade BIGINT NOT NULL,
    max_grade BIGINT NOT NULL,
    CHECK (min_grade >= 1 AND max_grade <= 12 AND min_grade <= max_grade)
);
CREATE INDEX event_divisions_event ON event_divisions(event_id);

-- Event roles are memberships of one event, not global roles.
CREATE TABLE event_members (
    event_id BIGINT NOT NULL REFERENCES events(id) ON DELETE CASCADE,
    user_id BIGINT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    role TEXT NOT NULL CHECK (role IN ('judge', 'coach', 'captain')),
    PRIMARY KEY (event_id, user_id, role)
);
CREATE INDEX event_members_user ON event_members(user_id);

CREATE TABLE teams (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    event_id BIGINT NOT NULL REFERENCES events(id) ON DELETE CASCADE,
    division_id BIGINT NOT NULL REFERENCES event_divisions(id),
    name TEXT NOT NULL,
    coach_id BIGINT NOT NULL REFERENCES users(id),
    school_id BIGINT NOT NULL REFERENCES schools(id),
    status TEXT NOT NULL CHECK (status IN ('pending', 'approved', 'rejected')),
    reason TEXT,
    -- The lower-tier team this one advanced from (advancement is idempotent).
    advanced_from BIGINT REFERENCES teams(id),
    created_at BIGINT NOT NULL,
    decided_at BIGINT,
    decided_by BIGINT
);
CREATE INDEX teams_event ON teams(event_id, division_id, status);
CREATE UNIQUE INDEX teams_advanced ON teams(event_id, advanced_from);

-- `active` turns 0 when the team is rejected, so its students may join another.
CREATE TABLE team_members (
    team_id BIGINT NOT NULL REFERENCES teams(id) ON DELETE CASCADE,
    event_id BIGINT NOT NULL REFERENCES events(id) ON DELETE CASCADE,
    student_id BIGINT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    active BIGINT NOT NULL DEFAULT 1,
    PRIMARY KEY (team_id, student_id)
);
-- One team per student per event, kept by the database even under races.
CREATE UNIQUE INDEX team_members_one_team ON team_members(event_id, student_id) WHERE active = 1;
CREATE INDEX team_members_student ON team_members(student_id);

CREATE TABLE rounds (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    event_id BIGINT NOT NULL REFERENCES events(id) ON DELETE CASCADE,
    name TEXT NOT NULL,
    opens_at BIGINT NOT NULL,
    closes_at BIGINT NOT NULL,
    -- Contestants see the board as it stood at freeze_at until the round closes.
    freeze_at BIGINT NOT NULL,
    -- Comma-separated lab ids of the catalogue.
    labs TEXT NOT NULL,
    submission_limit BIGINT NOT NULL,
    -- Drawn when the final ranking starts, after the round closed; published with the results.
    final_key TEXT,
    finalised_at BIGINT,
    -- Bumped by every grade written for the round: the cached board is stale when it moved.
    board_version BIGINT NOT NULL DEFAULT 0,
    created_at BIGINT NOT NULL,
    CHECK (opens_at < closes_at AND opens_at <= freeze_at AND freeze_at <= closes_at)
);
CREATE INDEX rounds_event ON rounds(event_id);

-- Submissions: `assignment_id` becomes optional, so SQLite rebuilds the
-- table. `replays` references it and would be emptied by the cascade of a
-- DROP (foreign keys cannot be switched off inside the migration's
-- transaction), so it is rebuilt first and pointed at the new table; renaming
-- the new table rewrites that reference.
CREATE TABLE submissions_new (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    assignment_id BIGINT REFERENCES assignments(id) ON DELETE CASCADE,
    round_id BIGINT REFERENCES rounds(id) ON DELETE CASCADE,
    team_id BIGINT REFERENCES teams(id) ON DELETE CASCADE,
    -- The lab of a round submission (an assignment's is the assignment's).
    lab_id TEXT,
    -- A final-ranking re-grade: the submission it re-grades on the round's final seeds.
    final_of BIGINT REFERENCES submissions_new(id) ON DELETE CASCADE,
    student_id BIGINT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    language TEXT NOT NULL,
    program TEXT NOT NULL,
    submitted_at BIGINT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('queued', 'running', 'done', 'failed')),
    claims BIGINT NOT NULL DEFAULT 0,
    lease_owner TEXT,
    lease_expires_at BIGINT,
    score REAL,
    max_score REAL,
    report TEXT,
    graded_at BIGINT,
    fair_student BIGINT NOT NULL DEFAULT 0,
    fair_class BIGINT NOT NULL DEFAULT 0,
    CHECK ((assignment_id IS NULL) <> (round_id IS NULL)),
    CHECK (round_id IS NULL OR (team_id IS NOT NULL AND lab_id IS NOT NULL))
);
INSERT INTO submissions_new (id, assignment_id, student_id, language, program, submitted_at, status, claims, lease_owner, lease_expires_at, score, max_score, report, graded_at, fair_student, fair_class)
    SELECT id, assignment_id, student_id, language, program, submitted_at, status, claims, lease_owner, lease_expires_at, score, max_score, report, graded_at, fair_student, fair_class FROM submissions;

CREATE TABLE replays_new (
    submission_id BIGINT NOT NULL REFERENCES submissions_new(id) ON DELETE CASCADE,
    case_name TEXT NOT NULL,
    data BLOB NOT NULL,
    PRIMARY KEY (submission_id, case_name)
);
INSERT INTO replays_new (submission_id, case_name, data) SELECT submission_id, case_name, data FROM replays;
DROP TABLE replays;
DROP TABLE submissions;
ALTER TABLE submissions_new RENAME TO submissions;
ALTER TABLE replays_new RENAME TO replays;
CREATE INDEX submissions_queue ON submissions(status, id);
CREATE INDEX submissions_student ON submissions(assignment_id, student_id);
CREATE INDEX submissions_owner ON submissions(student_id);
CREATE INDEX submissions_fair ON submissions(status, fair_student, fair_class, id);
CREATE INDEX submissions_round ON submissions(round_id, team_id);
CREATE INDEX submissions_final ON submissions(final_of);
