-- What the monitoring reports group by beyond the region tree (SQLite); docs/assessment-delivery.md, "Reports".
-- A school's locality (城镇 / 乡村) for the urban–rural gap; NULL: not recorded.
ALTER TABLE schools ADD COLUMN locality TEXT CHECK (locality IN ('urban', 'rural'));
-- A person's gender, stored only when the school chose to record it (roster import with
-- `record_gender`, or an edit): used for gender gaps and DIF in aggregates, never shown above
-- the people who manage the person. NULL: not recorded.
ALTER TABLE users ADD COLUMN gender TEXT CHECK (gender IN ('f', 'm'));
-- Last year's assessment of the same population that this one follows: its sittings are the
-- previous year of the reports' growth rows.
ALTER TABLE assessments ADD COLUMN follows_id BIGINT REFERENCES assessments(id) ON DELETE SET NULL;
