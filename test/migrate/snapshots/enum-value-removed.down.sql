-- Migration 20250102000000_enum-value-removed: down
-- Undoes up.sql. Data that up.sql dropped is not restored. `kiln migrate down` runs it in one transaction.
--
-- Changes:
--   drop check books_genre_check (enum values change, added again below)
--   enum books.genre: + "science"

-- drop check books_genre_check (enum values change, added again below)
ALTER TABLE "books" DROP CONSTRAINT "books_genre_check";

-- enum books.genre: + "science"
ALTER TABLE "books" ADD CONSTRAINT "books_genre_check" CHECK ("genre" IN ('fiction', 'science'));
