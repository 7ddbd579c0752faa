-- Item calibrations from this server's own sittings (SQLite); docs/assessment-delivery.md, "Calibration".
-- One row per calibration run of a population; `version` counts them per population,
-- and the highest version is the one in use. `takers` is N (sittings calibrated on,
-- the most of any literacy), `items` the items given parameters, `parameters` the JSON
-- of every literacy's calibration file (docs/assessment.md's format, without persons).
CREATE TABLE calibrations (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    population TEXT NOT NULL CHECK (population IN ('students', 'teachers')),
    version BIGINT NOT NULL,
    created_at BIGINT NOT NULL,
    created_by BIGINT NOT NULL,
    takers BIGINT NOT NULL,
    items BIGINT NOT NULL,
    parameters TEXT NOT NULL,
    UNIQUE (population, version)
);

-- The calibration a sitting was scored with (NULL: the bank's prior parameters).
ALTER TABLE sittings ADD COLUMN calibration_id BIGINT;
