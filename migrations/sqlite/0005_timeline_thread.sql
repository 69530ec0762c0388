-- Slack thread replies name their thread's first message.
ALTER TABLE timeline ADD COLUMN thread TEXT;
