-- Computational-thinking quiz rounds (sqlite): each division's form of items
-- from the bank, and each team's answer sheet with its answers as given
-- (docs/competitions.md, "Quiz rounds").

-- A round of a ct_quiz event (its `rounds` row has no labs).
CREATE TABLE quiz_rounds (
    round_id BIGINT PRIMARY KEY REFERENCES rounds(id) ON DELETE CASCADE,
    created_by BIGINT NOT NULL
);

-- The items of one division's form, in order; max_points as the bank gave them when chosen.
CREATE TABLE quiz_items (
    round_id BIGINT NOT NULL REFERENCES rounds(id) ON DELETE CASCADE,
    division_id BIGINT NOT NULL REFERENCES event_divisions(id) ON DELETE CASCADE,
    position BIGINT NOT NULL,
    item_id TEXT NOT NULL,
    max_points BIGINT NOT NULL,
    PRIMARY KEY (round_id, division_id, position),
    UNIQUE (round_id, division_id, item_id)
);

-- One answer sheet per team and round, shared by its members. Closed by the
-- team (closed_by 'team', submitted_by the member) or by the round's end
-- ('deadline'); points and max_points are filled in when it closes.
CREATE TABLE quiz_sheets (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    round_id BIGINT NOT NULL REFERENCES rounds(id) ON DELETE CASCADE,
    team_id BIGINT NOT NULL REFERENCES teams(id) ON DELETE CASCADE,
    started_at BIGINT NOT NULL,
    started_by BIGINT NOT NULL,
    submitted_at BIGINT,
    submitted_by BIGINT,
    closed_by TEXT CHECK (closed_by IN ('team', 'deadline')),
    points BIGINT,
    max_points BIGINT,
    UNIQUE (round_id, team_id)
);
CREATE INDEX quiz_sheets_open ON quiz_sheets(round_id, submitted_at);

-- The latest answer to each item of a sheet, as given (the JSON of the
-- response); points are filled in when the sheet closes.
CREATE TABLE quiz_answers (
    sheet_id BIGINT NOT NULL REFERENCES quiz_sheets(id) ON DELETE CASCADE,
    item_id TEXT NOT NULL,
    response TEXT NOT NULL,
    answered_by BIGINT NOT NULL,
    answered_at BIGINT NOT NULL,
    points BIGINT,
    PRIMARY KEY (sheet_id, item_id)
);
