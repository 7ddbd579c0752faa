-- Creative works judged by people (sqlite): a round's rubric, the teams'
-- entries and their files, judges' conflicts, assignments and scores, and the
-- published results (docs/competitions.md, "Creative works").

-- A round of a creative event: entries are handed in between opens_at and
-- closes_at (the `rounds` row), judged until judging_closes_at.
CREATE TABLE creative_rounds (
    round_id BIGINT PRIMARY KEY REFERENCES rounds(id) ON DELETE CASCADE,
    judging_closes_at BIGINT NOT NULL,
    judges_per_entry BIGINT NOT NULL CHECK (judges_per_entry BETWEEN 1 AND 10),
    -- 1: judges see neither the team's nor its members' names, nor its school.
    blind BIGINT NOT NULL DEFAULT 0,
    -- An entry whose judges' normalised totals (0–100) differ by more than this is flagged.
    disagreement DOUBLE PRECISION NOT NULL,
    published_at BIGINT
);

CREATE TABLE rubric_criteria (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    round_id BIGINT NOT NULL REFERENCES rounds(id) ON DELETE CASCADE,
    position BIGINT NOT NULL,
    name_zh TEXT NOT NULL,
    name_en TEXT NOT NULL,
    description_zh TEXT NOT NULL,
    description_en TEXT NOT NULL,
    max_points BIGINT NOT NULL CHECK (max_points BETWEEN 1 AND 100),
    weight DOUBLE PRECISION NOT NULL CHECK (weight > 0)
);
CREATE INDEX rubric_criteria_round ON rubric_criteria(round_id, position);

-- One entry per team and round; links are https addresses, one per line.
CREATE TABLE creative_entries (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    round_id BIGINT NOT NULL REFERENCES rounds(id) ON DELETE CASCADE,
    team_id BIGINT NOT NULL REFERENCES teams(id) ON DELETE CASCADE,
    title TEXT NOT NULL,
    description TEXT NOT NULL,
    links TEXT NOT NULL,
    submitted_by BIGINT NOT NULL,
    submitted_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    UNIQUE (round_id, team_id)
);

-- The entry's files, kept in the database like submissions (one backup holds everything).
CREATE TABLE creative_files (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    entry_id BIGINT NOT NULL REFERENCES creative_entries(id) ON DELETE CASCADE,
    name TEXT NOT NULL,
    kind TEXT NOT NULL,
    size BIGINT NOT NULL,
    sha256 TEXT NOT NULL,
    data BLOB NOT NULL,
    uploaded_by BIGINT NOT NULL,
    uploaded_at BIGINT NOT NULL,
    UNIQUE (entry_id, name)
);

-- Declared conflicts of interest: a judge and a school or a team of the event.
CREATE TABLE judge_conflicts (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    event_id BIGINT NOT NULL REFERENCES events(id) ON DELETE CASCADE,
    judge_id BIGINT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    school_id BIGINT REFERENCES schools(id) ON DELETE CASCADE,
    team_id BIGINT REFERENCES teams(id) ON DELETE CASCADE,
    declared_by BIGINT NOT NULL,
    declared_at BIGINT NOT NULL,
    CHECK ((school_id IS NULL) <> (team_id IS NULL))
);
CREATE INDEX judge_conflicts_event ON judge_conflicts(event_id, judge_id);

-- Which judge scores which entry; scored_at is set when their sheet is complete.
CREATE TABLE judge_assignments (
    entry_id BIGINT NOT NULL REFERENCES creative_entries(id) ON DELETE CASCADE,
    judge_id BIGINT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    round_id BIGINT NOT NULL REFERENCES rounds(id) ON DELETE CASCADE,
    further BIGINT NOT NULL DEFAULT 0,
    assigned_at BIGINT NOT NULL,
    comment TEXT,
    scored_at BIGINT,
    PRIMARY KEY (entry_id, judge_id)
);
CREATE INDEX judge_assignments_round ON judge_assignments(round_id, judge_id);

CREATE TABLE judge_scores (
    entry_id BIGINT NOT NULL REFERENCES creative_entries(id) ON DELETE CASCADE,
    judge_id BIGINT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    criterion_id BIGINT NOT NULL REFERENCES rubric_criteria(id) ON DELETE CASCADE,
    points DOUBLE PRECISION NOT NULL,
    comment TEXT NOT NULL,
    PRIMARY KEY (entry_id, judge_id, criterion_id)
);

-- The published result of each team, as computed at publication.
CREATE TABLE creative_results (
    round_id BIGINT NOT NULL REFERENCES rounds(id) ON DELETE CASCADE,
    team_id BIGINT NOT NULL REFERENCES teams(id) ON DELETE CASCADE,
    entry_id BIGINT REFERENCES creative_entries(id) ON DELETE CASCADE,
    score DOUBLE PRECISION NOT NULL,
    raw_mean DOUBLE PRECISION,
    judges BIGINT NOT NULL,
    submitted_at BIGINT,
    PRIMARY KEY (round_id, team_id)
);
