-- The fair queue at city scale: with 100,000 jobs waiting, counting a
-- student's or a team's unfinished jobs at every submission must not scan the
-- queue. Partial indexes hold only the unfinished rows (queued or running),
-- so they stay as small as the queue itself and cost nothing once it drains.
CREATE INDEX submissions_unfinished_student ON submissions(student_id) WHERE status IN ('queued', 'running');
CREATE INDEX submissions_unfinished_team ON submissions(team_id) WHERE status IN ('queued', 'running');
CREATE INDEX submissions_unfinished_assignment ON submissions(assignment_id) WHERE status IN ('queued', 'running');
CREATE INDEX submissions_unfinished_sitting ON submissions(sitting_id) WHERE status IN ('queued', 'running');
