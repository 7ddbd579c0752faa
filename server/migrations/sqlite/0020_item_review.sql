-- Items flagged for review after a calibration (SQLite); docs/assessment.md, "Review on the server".
-- One row per (calibration, item, kind, comparison): `kind` 'dif' (Mantel–Haenszel between the
-- groups of `comparison`: 'gender' or 'locality') or 'fit' (infit/outfit; comparison 'fit').
-- `statistic` is the ETS delta (dif) or the mean square furthest from 1 (fit); `category` the
-- ETS class A/B/C, 'insufficient' (groups too small), 'not_estimable', 'not_analysed'
-- (partial-credit item), or 'ok'/'misfit'; `details` the JSON of the rest (counts, odds
-- ratio, SE, χ², p, favours; infit, outfit, n). `state` is NULL for a row with nothing to
-- review (A, ok, too little data), else the review: open, then kept, revised or retired by
-- `reviewer_id` at `reviewed_at` with `note` (the latest decision; the audit log keeps all).
CREATE TABLE calibration_flags (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    calibration_id BIGINT NOT NULL REFERENCES calibrations(id) ON DELETE CASCADE,
    literacy TEXT NOT NULL,
    item_id TEXT NOT NULL,
    kind TEXT NOT NULL CHECK (kind IN ('dif', 'fit')),
    comparison TEXT NOT NULL CHECK (comparison IN ('gender', 'locality', 'fit')),
    statistic DOUBLE PRECISION,
    category TEXT NOT NULL,
    details TEXT NOT NULL,
    state TEXT CHECK (state IN ('open', 'kept', 'revised', 'retired')),
    -- No foreign key: a decision outlives the reviewer's account (the audit log names them too).
    reviewer_id BIGINT,
    reviewed_at BIGINT,
    note TEXT,
    UNIQUE (calibration_id, item_id, kind, comparison)
);

-- Items retired on this server after a review. The bank's files stay as they are (the
-- catalogue is read-only data); new tests, blueprints and quiz forms treat these ids as
-- retired. `flag_id`: the review that retired it (a later keep/revise of it brings the item back).
CREATE TABLE item_statuses (
    item_id TEXT PRIMARY KEY,
    status TEXT NOT NULL CHECK (status IN ('retired')),
    flag_id BIGINT REFERENCES calibration_flags(id) ON DELETE SET NULL,
    set_by BIGINT NOT NULL,
    set_at BIGINT NOT NULL
);
