-- Competitions, part two (sqlite): which submission a team stands by,
-- clarifications, appeals with the judges' evidence, certificates.

-- A team's chosen submission per lab of a round (else its last one counts).
CREATE TABLE final_choices (
    round_id BIGINT NOT NULL REFERENCES rounds(id) ON DELETE CASCADE,
    team_id BIGINT NOT NULL REFERENCES teams(id) ON DELETE CASCADE,
    lab_id TEXT NOT NULL,
    submission_id BIGINT NOT NULL REFERENCES submissions(id) ON DELETE CASCADE,
    chosen_by BIGINT NOT NULL,
    chosen_at BIGINT NOT NULL,
    PRIMARY KEY (round_id, team_id, lab_id)
);
CREATE INDEX final_choices_submission ON final_choices(submission_id);

-- A contestant's question (team_id, asked_by, question) or a judge's
-- announcement (no team, no question, broadcast = 1); answered privately
-- (broadcast = 0: the team alone sees it) or to the whole round.
CREATE TABLE clarifications (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    round_id BIGINT NOT NULL REFERENCES rounds(id) ON DELETE CASCADE,
    team_id BIGINT REFERENCES teams(id) ON DELETE CASCADE,
    asked_by BIGINT,
    question TEXT,
    asked_at BIGINT NOT NULL,
    answer TEXT,
    answered_by BIGINT,
    answered_at BIGINT,
    broadcast BIGINT NOT NULL DEFAULT 0
);
CREATE INDEX clarifications_round ON clarifications(round_id, team_id);

-- What the grader measured in a contest submission's hidden cases: the full
-- report and the hidden cases' replays. Judges only; contestants and
-- coaches see the redacted report in submissions.report.
CREATE TABLE evidence (
    submission_id BIGINT PRIMARY KEY REFERENCES submissions(id) ON DELETE CASCADE,
    report TEXT NOT NULL
);
CREATE TABLE evidence_replays (
    submission_id BIGINT NOT NULL REFERENCES submissions(id) ON DELETE CASCADE,
    case_name TEXT NOT NULL,
    data BLOB NOT NULL,
    PRIMARY KEY (submission_id, case_name)
);

-- A coach's appeal against a graded submission, and the judge's answer.
CREATE TABLE appeals (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    event_id BIGINT NOT NULL REFERENCES events(id) ON DELETE CASCADE,
    round_id BIGINT NOT NULL REFERENCES rounds(id) ON DELETE CASCADE,
    team_id BIGINT NOT NULL REFERENCES teams(id) ON DELETE CASCADE,
    submission_id BIGINT NOT NULL REFERENCES submissions(id) ON DELETE CASCADE,
    filed_by BIGINT NOT NULL,
    reason TEXT NOT NULL,
    filed_at BIGINT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('open', 'upheld', 'rejected')),
    answer TEXT,
    answered_by BIGINT,
    answered_at BIGINT,
    -- The submission's score when the appeal was filed; a re-grade overwrites the row's.
    score_before DOUBLE PRECISION,
    regraded BIGINT NOT NULL DEFAULT 0
);
CREATE INDEX appeals_event ON appeals(event_id, team_id);
CREATE INDEX appeals_submission ON appeals(submission_id);

-- One certificate per team member and award: the name printed on it is kept
-- as printed; the code is what /verify/{code} looks up.
CREATE TABLE certificates (
    code TEXT PRIMARY KEY,
    event_id BIGINT NOT NULL REFERENCES events(id) ON DELETE CASCADE,
    round_id BIGINT NOT NULL REFERENCES rounds(id) ON DELETE CASCADE,
    team_id BIGINT NOT NULL REFERENCES teams(id) ON DELETE CASCADE,
    student_id BIGINT NOT NULL,
    name TEXT NOT NULL,
    award TEXT NOT NULL,
    team_rank BIGINT NOT NULL,
    issued_by BIGINT NOT NULL,
    issued_at BIGINT NOT NULL
);
CREATE INDEX certificates_round ON certificates(round_id, team_id);
