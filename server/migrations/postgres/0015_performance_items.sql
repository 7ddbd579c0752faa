-- Performance tasks in assessments (PostgreSQL): a taker's program for a
-- performance item is a submission on the same queue as assignments and
-- contest rounds, owned by the sitting (docs/assessment-delivery.md).
ALTER TABLE submissions ADD COLUMN sitting_id BIGINT REFERENCES sittings(id) ON DELETE CASCADE;
-- The performance item of the sitting the program answers (its lab is in lab_id, as a round's).
ALTER TABLE submissions ADD COLUMN item_id TEXT;
ALTER TABLE submissions DROP CONSTRAINT submissions_one_owner;
ALTER TABLE submissions ADD CONSTRAINT submissions_one_owner CHECK (num_nonnulls(assignment_id, round_id, sitting_id) = 1);
ALTER TABLE submissions ADD CONSTRAINT submissions_sitting_item CHECK (sitting_id IS NULL OR (item_id IS NOT NULL AND lab_id IS NOT NULL));
CREATE INDEX submissions_sitting ON submissions(sitting_id, item_id);
