-- Deployment environments: a non-production deployment stays evidence but is never a cause.
ALTER TABLE changes ADD COLUMN environment TEXT;
ALTER TABLE changes ADD COLUMN production INTEGER NOT NULL DEFAULT 1;
-- A replica about to announce a report holds this lease (ms), so exactly one announces.
ALTER TABLE reports ADD COLUMN announcing_at BIGINT;
-- The incident PagerDuty merged this one into: no draft of its own, out of report counts.
ALTER TABLE incidents ADD COLUMN merged_into TEXT;
