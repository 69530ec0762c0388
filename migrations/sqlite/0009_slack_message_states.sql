-- Slack messages keep their latest state whatever order their events arrive in: the edit a stored
-- text is (Slack's `edited.ts`; NULL as first posted) and the text as Slack sent it, for audit.
ALTER TABLE timeline ADD COLUMN revision TEXT;
ALTER TABLE timeline ADD COLUMN raw TEXT;
-- A message deleted before (or after) it arrived: a late delivery must not bring it back.
CREATE TABLE slack_deletions (
    incident_id TEXT NOT NULL,
    evidence_id TEXT NOT NULL,
    deleted_at  BIGINT NOT NULL,
    PRIMARY KEY (incident_id, evidence_id)
);
