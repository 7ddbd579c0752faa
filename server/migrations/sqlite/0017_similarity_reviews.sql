-- Judges' verdicts on similar pairs of an event's submissions (SQLite); docs/competitions.md, "Similarity review".
-- One row per pair (submission_a < submission_b): the latest verdict replaces the earlier one.
CREATE TABLE similarity_reviews (
    event_id BIGINT NOT NULL REFERENCES events(id) ON DELETE CASCADE,
    submission_a BIGINT NOT NULL REFERENCES submissions(id) ON DELETE CASCADE,
    submission_b BIGINT NOT NULL REFERENCES submissions(id) ON DELETE CASCADE,
    verdict TEXT NOT NULL CHECK (verdict IN ('cleared', 'referred')),
    note TEXT NOT NULL,
    -- No foreign key: a verdict outlives the judge's account (the audit log names them too).
    reviewer_id BIGINT NOT NULL,
    at BIGINT NOT NULL,
    PRIMARY KEY (event_id, submission_a, submission_b),
    CHECK (submission_a < submission_b)
);
CREATE INDEX similarity_reviews_b ON similarity_reviews(submission_b);
