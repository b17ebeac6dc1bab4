-- Migration 20250102000000_drop-field: down
-- Undoes up.sql. Data that up.sql dropped is not restored. `kiln migrate down` runs it in one transaction.
--
-- Changes:
--   add field books.pages

-- add field books.pages
ALTER TABLE "books" ADD COLUMN "pages" integer;
