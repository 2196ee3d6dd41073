-- Schema 4: the warehouse indexed by holder (the pseudonymous key), so an applicant's results in
-- force are read without a scan. Rows written before are filled by the migration's code.
ALTER TABLE motcua_results ADD COLUMN holder text;
CREATE INDEX motcua_results_by_holder ON motcua_results (province, holder);
