-- Migration 20250102000000_add-field: down
-- Undoes up.sql. Data that up.sql dropped is not restored. `kiln migrate down` runs it in one transaction.
--
-- Changes:
--   drop unique constraint books_isbn_key
--   DESTRUCTIVE drop field books.isbn

-- drop unique constraint books_isbn_key
ALTER TABLE "books" DROP CONSTRAINT "books_isbn_key";

-- DESTRUCTIVE: drops column books.isbn and its data
-- drop field books.isbn
ALTER TABLE "books" DROP COLUMN "isbn";
