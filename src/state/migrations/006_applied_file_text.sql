-- The text of the file the last apply wrote, kept only when that apply could prove the live declared state
-- equals the file (the declared_version its plan was made from was still current under the apply lock).
-- While accounts.applied_config_digest names it and declared_version has not moved, a plan of an edited file
-- re-reads only the group entries whose text changed (src/apply/make-plan.ts). Any apply replaces or
-- deletes the row.
CREATE TABLE applied_files (
  account_id     text PRIMARY KEY REFERENCES accounts(account_id),
  config_digest  text NOT NULL,
  file_text      text NOT NULL
);
-- Stored uncompressed: the text is written by every apply and read by every plan of an edited file, and
-- pglz on a 4.5 MB file costs more time (~30 ms each way) than the extra space is worth.
ALTER TABLE applied_files ALTER COLUMN file_text SET STORAGE EXTERNAL;
