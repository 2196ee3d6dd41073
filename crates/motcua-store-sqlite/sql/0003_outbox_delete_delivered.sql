-- Schema 3: a message the portal acknowledged leaves the outbox (the transactional-outbox
-- pattern: the event log keeps the history, the outbox only what is still to send). Rows
-- that schema 2 kept as delivered go now; the `delivered` column stays, always 0, so the
-- partial index of pending messages is unchanged.
DELETE FROM outbox WHERE delivered = 1;
