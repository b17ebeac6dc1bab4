-- Migration 20250102000000_unique: down
-- Undoes up.sql. Data that up.sql dropped is not restored. `kiln migrate down` runs it in one transaction.
--
-- Changes:
--   drop unique constraint authors_name_key

-- drop unique constraint authors_name_key
ALTER TABLE "authors" DROP CONSTRAINT "authors_name_key";
