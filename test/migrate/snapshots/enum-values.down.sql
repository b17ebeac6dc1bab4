-- Migration 20250102000000_enum-values: down
-- Undoes up.sql. Data that up.sql dropped is not restored. `kiln migrate down` runs it in one transaction.
--
-- Changes:
--   drop check books_genre_check (enum values change, added again below)
--   rename enum value books.genre "non-fiction" → "science"
--   DESTRUCTIVE enum books.genre: - "poetry", "non-fiction" → "science"

-- drop check books_genre_check (enum values change, added again below)
ALTER TABLE "books" DROP CONSTRAINT "books_genre_check";

-- rename enum value books.genre "non-fiction" → "science"
UPDATE "books" SET "genre" = 'science' WHERE "genre" = 'non-fiction';

-- DESTRUCTIVE: removes enum values "poetry" from books.genre: rows holding them make the migration fail
-- enum books.genre: - "poetry", "non-fiction" → "science"
-- To keep such rows, move them first: UPDATE "books" SET "genre" = <another value> WHERE "genre" = 'poetry';
ALTER TABLE "books" ADD CONSTRAINT "books_genre_check" CHECK ("genre" IN ('fiction', 'science'));
