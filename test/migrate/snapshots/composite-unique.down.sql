-- Migration 20250102000000_composite-unique: down
-- Undoes up.sql. Data that up.sql dropped is not restored. `kiln migrate down` runs it in one transaction.
--
-- Changes:
--   drop unique constraint books_author_id_title_key

-- drop unique constraint books_author_id_title_key
ALTER TABLE "books" DROP CONSTRAINT "books_author_id_title_key";
