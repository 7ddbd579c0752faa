-- Assessment delivery (SQLite): tests as data, sittings, and every answer as given.
-- docs/assessment-delivery.md describes every column for the reports.

-- A test (试卷/测评). `mode`: `fixed` (assessment_items is the form, in
-- order) or `adaptive` (assessment_items is the pool the CAT draws from).
-- Who sits it: the classes in assessment_classes (population `students`),
-- or the teachers of `target_school_id` / of the schools in `target_region_id`
-- and the regions below it (population `teachers`). `school_id` is the school
-- that owns it (its admins manage it; NULL for an organiser's test across schools).
CREATE TABLE assessments (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    title TEXT NOT NULL,
    population TEXT NOT NULL CHECK (population IN ('students', 'teachers')),
    mode TEXT NOT NULL CHECK (mode IN ('fixed', 'adaptive')),
    presentation TEXT NOT NULL CHECK (presentation IN ('single', 'paged')),
    opens_at BIGINT NOT NULL,
    closes_at BIGINT NOT NULL,
    time_limit_minutes BIGINT NOT NULL,
    max_items BIGINT,
    se_target DOUBLE PRECISION,
    randomesque BIGINT,
    school_id BIGINT REFERENCES schools(id),
    target_school_id BIGINT REFERENCES schools(id),
    target_region_id BIGINT REFERENCES regions(id),
    created_by BIGINT NOT NULL REFERENCES users(id),
    created_at BIGINT NOT NULL
);
CREATE INDEX assessments_school ON assessments(school_id);

CREATE TABLE assessment_items (
    assessment_id BIGINT NOT NULL REFERENCES assessments(id) ON DELETE CASCADE,
    position BIGINT NOT NULL,
    item_id TEXT NOT NULL,
    PRIMARY KEY (assessment_id, position)
);

CREATE TABLE assessment_classes (
    assessment_id BIGINT NOT NULL REFERENCES assessments(id) ON DELETE CASCADE,
    class_id BIGINT NOT NULL REFERENCES classes(id) ON DELETE CASCADE,
    PRIMARY KEY (assessment_id, class_id)
);
CREATE INDEX assessment_classes_class ON assessment_classes(class_id);

-- One sitting per taker per assessment. `deadline_at` = min(started_at +
-- limit, closes_at), fixed at the start. `position` is the item the taker is
-- on (resume goes there). Scores are filled when it is submitted (by the
-- taker, or by the server once the deadline has passed: `submitted_by`).
CREATE TABLE sittings (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    assessment_id BIGINT NOT NULL REFERENCES assessments(id) ON DELETE CASCADE,
    taker_id BIGINT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    started_at BIGINT NOT NULL,
    deadline_at BIGINT NOT NULL,
    position BIGINT NOT NULL DEFAULT 0,
    submitted_at BIGINT,
    submitted_by TEXT CHECK (submitted_by IN ('taker', 'deadline')),
    points BIGINT,
    max_points BIGINT,
    theta DOUBLE PRECISION,
    se DOUBLE PRECISION,
    UNIQUE (assessment_id, taker_id)
);
CREATE INDEX sittings_taker ON sittings(taker_id);
CREATE INDEX sittings_open ON sittings(submitted_at, deadline_at);

-- Every item a sitting presented, in order, with the response as given
-- (JSON; NULL: not answered), its points once scored, and when it was last saved.
CREATE TABLE sitting_items (
    sitting_id BIGINT NOT NULL REFERENCES sittings(id) ON DELETE CASCADE,
    position BIGINT NOT NULL,
    item_id TEXT NOT NULL,
    literacy TEXT NOT NULL,
    response TEXT,
    points BIGINT,
    max_points BIGINT NOT NULL,
    answered_at BIGINT,
    PRIMARY KEY (sitting_id, position),
    UNIQUE (sitting_id, item_id)
);
CREATE INDEX sitting_items_item ON sitting_items(item_id);

-- θ and SE per literacy (EAP with the bank's item parameters), per submitted sitting.
CREATE TABLE sitting_abilities (
    sitting_id BIGINT NOT NULL REFERENCES sittings(id) ON DELETE CASCADE,
    literacy TEXT NOT NULL,
    theta DOUBLE PRECISION NOT NULL,
    se DOUBLE PRECISION NOT NULL,
    items BIGINT NOT NULL,
    points BIGINT NOT NULL,
    max_points BIGINT NOT NULL,
    PRIMARY KEY (sitting_id, literacy)
);
