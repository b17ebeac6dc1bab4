-- Migration 20250102000000_rename-resource: down
-- Undoes up.sql. Data that up.sql dropped is not restored. `kiln migrate down` runs it in one transaction.
--
-- Changes:
--   rename resource writers → authors: table writers → authors
--   rename identity sequence writers_id_seq → authors_id_seq
--   rename primary key writers_pkey → authors_pkey

-- rename resource writers → authors: table writers → authors
ALTER TABLE "writers" RENAME TO "authors";

-- rename identity sequence writers_id_seq → authors_id_seq
ALTER SEQUENCE "writers_id_seq" RENAME TO "authors_id_seq";

-- rename primary key writers_pkey → authors_pkey
ALTER TABLE "authors" RENAME CONSTRAINT "writers_pkey" TO "authors_pkey";
