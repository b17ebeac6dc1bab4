-- Migration 20250102000000_rename-field: down
-- Undoes up.sql. Data that up.sql dropped is not restored. `kiln migrate down` runs it in one transaction.
--
-- Changes:
--   rename field books.name → title

-- rename field books.name → title
ALTER TABLE "books" RENAME COLUMN "name" TO "title";
