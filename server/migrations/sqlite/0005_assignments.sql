-- Editable assignments (SQLite).
-- Assignments a teacher edits after assigning: their own title (NULL: the
-- lab's title) and the languages allowed, a comma-separated subset of the
-- lab's (NULL: all of the lab's languages).
ALTER TABLE assignments ADD COLUMN title TEXT;
ALTER TABLE assignments ADD COLUMN languages TEXT;
