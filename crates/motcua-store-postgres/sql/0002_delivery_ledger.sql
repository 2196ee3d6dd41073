-- Schema 2: a message the portal acknowledged leaves the outbox for the delivery ledger, which
-- keeps what reached the national portal and when (the evidence for Decision 766's 1.4).
CREATE TABLE motcua_deliveries (
    province     integer NOT NULL,
    dossier      bigint  NOT NULL,   -- motcua_dossiers.id
    seq          integer NOT NULL,   -- the event whose message was delivered
    delivered_at bigint  NOT NULL,   -- minutes since 1970-01-01T00:00Z, the acknowledgement
    PRIMARY KEY (province, dossier, seq)
) PARTITION BY LIST (province);

