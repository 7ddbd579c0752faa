-- Regions, schools, classes, assignments, the submission queue and the gradebook (SQLite).
CREATE TABLE regions (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    name TEXT NOT NULL,
    kind TEXT NOT NULL CHECK (kind IN ('province', 'city', 'district')),
    parent_id BIGINT REFERENCES regions(id),
    created_at BIGINT NOT NULL
);

CREATE TABLE schools (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    name TEXT NOT NULL,
    region_id BIGINT NOT NULL REFERENCES regions(id),
    created_at BIGINT NOT NULL
);

CREATE TABLE classes (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    school_id BIGINT NOT NULL REFERENCES schools(id),
    teacher_id BIGINT NOT NULL REFERENCES users(id),
    name TEXT NOT NULL,
    created_at BIGINT NOT NULL
);
CREATE INDEX classes_teacher ON classes(teacher_id);
CREATE INDEX classes_school ON classes(school_id);

-- Students carry only what teaching needs: display name, student number, class.
ALTER TABLE users ADD COLUMN school_id BIGINT REFERENCES schools(id);
ALTER TABLE users ADD COLUMN class_id BIGINT REFERENCES classes(id);
ALTER TABLE users ADD COLUMN student_number TEXT;
CREATE UNIQUE INDEX users_school_student_number ON users(school_id, student_number);
CREATE INDEX users_class ON users(class_id);

-- The per-session secret that cookie-authenticated writes must echo (CSRF).
ALTER TABLE sessions ADD COLUMN csrf_token TEXT NOT NULL DEFAULT '';

CREATE TABLE assignments (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    class_id BIGINT NOT NULL REFERENCES classes(id) ON DELETE CASCADE,
    lab_id TEXT NOT NULL,
    opens_at BIGINT NOT NULL,
    due_at BIGINT NOT NULL,
    attempt_limit BIGINT NOT NULL,
    score_policy TEXT NOT NULL CHECK (score_policy IN ('best', 'last')),
    created_by BIGINT NOT NULL,
    created_at BIGINT NOT NULL
);
CREATE INDEX assignments_class ON assignments(class_id);

-- A submission is also its grading job: `status` and the lease columns are the queue.
CREATE TABLE submissions (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    assignment_id BIGINT NOT NULL REFERENCES assignments(id) ON DELETE CASCADE,
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
    graded_at BIGINT
);
CREATE INDEX submissions_queue ON submissions(status, id);
CREATE INDEX submissions_student ON submissions(assignment_id, student_id);
CREATE INDEX submissions_owner ON submissions(student_id);

CREATE TABLE replays (
    submission_id BIGINT NOT NULL REFERENCES submissions(id) ON DELETE CASCADE,
    case_name TEXT NOT NULL,
    data BLOB NOT NULL,
    PRIMARY KEY (submission_id, case_name)
);

CREATE TABLE grade_overrides (
    assignment_id BIGINT NOT NULL REFERENCES assignments(id) ON DELETE CASCADE,
    student_id BIGINT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    score REAL NOT NULL,
    comment TEXT NOT NULL,
    by_id BIGINT NOT NULL,
    at BIGINT NOT NULL,
    PRIMARY KEY (assignment_id, student_id)
);
