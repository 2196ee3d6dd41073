-- Schema 8: the warehouse indexed by holder, so an applicant's results in force are read without
-- a scan (the holder's pseudonymous key; none for results issued without an applicant). Rows
-- written before are filled from their MessagePack by the migration's code.
ALTER TABLE results ADD COLUMN holder TEXT;
CREATE INDEX results_by_holder ON results (holder) WHERE holder IS NOT NULL;
