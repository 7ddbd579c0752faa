-- Performance tasks in assessments (SQLite): a taker's program for a
-- performance item is a submission on the same queue as assignments and
-- contest rounds, owned by the sitting (docs/assessment-delivery.md).
--
-- SQLite cannot change a CHECK, so `submissions` is rebuilt. With foreign
-- keys on (they cannot be switched off inside the migration's transaction),
-- DROP TABLE submissions deletes its rows first and that DELETE cascades into
-- every table referencing it. So every child — replays (0002), final_choices,
-- evidence, evidence_replays and appeals (0011) — is rebuilt too, pointing at
-- the new table, before anything is dropped; renaming the new table rewrites
-- those references. A later table that references submissions must be added
-- here (tests/all/assessment_programs.rs fills every child and checks it survives).
CREATE TABLE submissions_new (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    assignment_id BIGINT REFERENCES assignments(id) ON DELETE CASCADE,
    round_id BIGINT REFERENCES rounds(id) ON DELETE CASCADE,
    team_id BIGINT REFERENCES teams(id) ON DELETE CASCADE,
    -- The lab of a round's or a sitting's submission (an assignment's is the assignment's).
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
    -- An assessment sitting's program for one of its performance items.
    sitting_id BIGINT REFERENCES sittings(id) ON DELETE CASCADE,
    item_id TEXT,
    CHECK ((assignment_id IS NOT NULL) + (round_id IS NOT NULL) + (sitting_id IS NOT NULL) = 1),
    CHECK (round_id IS NULL OR (team_id IS NOT NULL AND lab_id IS NOT NULL)),
    CHECK (sitting_id IS NULL OR (item_id IS NOT NULL AND lab_id IS NOT NULL))
);
INSERT INTO submissions_new (id, assignment_id, round_id, team_id, lab_id, final_of, student_id, language, program, submitted_at, status, claims,
                             lease_owner, lease_expires_at, score, max_score, report, graded_at, fair_student, fair_class)
    SELECT id, assignment_id, round_id, team_id, lab_id, final_of, student_id, language, program, submitted_at, status, claims,
           lease_owner, lease_expires_at, score, max_score, report, graded_at, fair_student, fair_class FROM submissions;

CREATE TABLE replays_new (
    submission_id BIGINT NOT NULL REFERENCES submissions_new(id) ON DELETE CASCADE,
    case_name TEXT NOT NULL,
    data BLOB NOT NULL,
    PRIMARY KEY (submission_id, case_name)
);
INSERT INTO replays_new (submission_id, case_name, data) SELECT submission_id, case_name, data FROM replays;

CREATE TABLE final_choices_new (
    round_id BIGINT NOT NULL REFERENCES rounds(id) ON DELETE CASCADE,
    team_id BIGINT NOT NULL REFERENCES teams(id) ON DELETE CASCADE,
    lab_id TEXT NOT NULL,
    submission_id BIGINT NOT NULL REFERENCES submissions_new(id) ON DELETE CASCADE,
    chosen_by BIGINT NOT NULL,
    chosen_at BIGINT NOT NULL,
    PRIMARY KEY (round_id, team_id, lab_id)
);
INSERT INTO final_choices_new (round_id, team_id, lab_id, submission_id, chosen_by, chosen_at)
    SELECT round_id, team_id, lab_id, submission_id, chosen_by, chosen_at FROM final_choices;

CREATE TABLE evidence_new (
    submission_id BIGINT PRIMARY KEY REFERENCES submissions_new(id) ON DELETE CASCADE,
    report TEXT NOT NULL
);
INSERT INTO evidence_new (submission_id, report) SELECT submission_id, report FROM evidence;

CREATE TABLE evidence_replays_new (
    submission_id BIGINT NOT NULL REFERENCES submissions_new(id) ON DELETE CASCADE,
    case_name TEXT NOT NULL,
    data BLOB NOT NULL,
    PRIMARY KEY (submission_id, case_name)
);
INSERT INTO evidence_replays_new (submission_id, case_name, data) SELECT submission_id, case_name, data FROM evidence_replays;

CREATE TABLE appeals_new (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    event_id BIGINT NOT NULL REFERENCES events(id) ON DELETE CASCADE,
    round_id BIGINT NOT NULL REFERENCES rounds(id) ON DELETE CASCADE,
    team_id BIGINT NOT NULL REFERENCES teams(id) ON DELETE CASCADE,
    submission_id BIGINT NOT NULL REFERENCES submissions_new(id) ON DELETE CASCADE,
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
INSERT INTO appeals_new (id, event_id, round_id, team_id, submission_id, filed_by, reason, filed_at, status, answer, answered_by, answered_at, score_before, regraded)
    SELECT id, event_id, round_id, team_id, submission_id, filed_by, reason, filed_at, status, answer, answered_by, answered_at, score_before, regraded FROM appeals;

-- The old children go first (their rows are copied), so the DROP of the old
-- submissions cascades into nothing but itself.
DROP TABLE replays;
DROP TABLE final_choices;
DROP TABLE evidence;
DROP TABLE evidence_replays;
DROP TABLE appeals;
DROP TABLE submissions;
ALTER TABLE submissions_new RENAME TO submissions;
ALTER TABLE replays_new RENAME TO replays;
ALTER TABLE final_choices_new RENAME TO final_choices;
ALTER TABLE evidence_new RENAME TO evidence;
ALTER TABLE evidence_replays_new RENAME TO evidence_replays;
ALTER TABLE appeals_new RENAME TO appeals;
-- Every index the old tables had, and the sitting's.
CREATE INDEX submissions_queue ON submissions(status, id);
CREATE INDEX submissions_student ON submissions(assignment_id, student_id);
CREATE INDEX submissions_owner ON submissions(student_id);
CREATE INDEX submissions_fair ON submissions(status, fair_student, fair_class, id);
CREATE INDEX submissions_round ON submissions(round_id, team_id);
CREATE INDEX submissions_final ON submissions(final_of);
CREATE INDEX submissions_sitting ON submissions(sitting_id, item_id);
CREATE INDEX final_choices_submission ON final_choices(submission_id);
CREATE INDEX appeals_event ON appeals(event_id, team_id);
CREATE INDEX appeals_submission ON appeals(submission_id);
