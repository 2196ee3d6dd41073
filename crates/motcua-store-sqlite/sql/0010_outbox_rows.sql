-- Schema version 10: an outbox row is only which event's message is still to send, and when to
-- try it: the message is rendered from the event and the dossier's state after it when it is
-- sent (`render_messages`), byte for byte what was stored before.
ALTER TABLE outbox DROP COLUMN message;
