-- Migration 20250102000000_indexes: down
-- Undoes up.sql. Data that up.sql dropped is not restored. `kiln migrate down` runs it in one transaction.
--
-- Changes:
--   drop index books_genre_idx
--   drop index books_author_id_pages_idx

-- drop index books_genre_idx
DROP INDEX "books_genre_idx";

-- drop index books_author_id_pages_idx
DROP INDEX "books_author_id_pages_idx";
