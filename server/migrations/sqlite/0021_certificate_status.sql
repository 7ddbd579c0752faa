-- Certificates can be revoked (an award withdrawn after an appeal, a wrong name) and re-issued
-- under a new code; docs/competitions.md, "Revoking and re-issuing". A revoked row stays, so
-- its code still answers /verify/{code} — with `status: revoked` — instead of vanishing.
-- `replaced_by` is the code of the certificate issued in its place, if any; `replaces` on the
-- new row points back.
ALTER TABLE certificates ADD COLUMN revoked_at BIGINT;
ALTER TABLE certificates ADD COLUMN revoked_by BIGINT;
ALTER TABLE certificates ADD COLUMN revoked_reason TEXT;
ALTER TABLE certificates ADD COLUMN replaced_by TEXT;
ALTER TABLE certificates ADD COLUMN replaces TEXT;
