-- Migration 20250102000000_on-delete: down
-- Undoes up.sql. Data that up.sql dropped is not restored. `kiln migrate down` runs it in one transaction.
--
-- Changes:
--   drop foreign key books_author_id_fkey (it changes, added again below)
--   change onDelete of books.authorId: cascade → restrict

-- drop foreign key books_author_id_fkey (it changes, added again below)
ALTER TABLE "books" DROP CONSTRAINT "books_author_id_fkey";

-- change onDelete of books.authorId: cascade → restrict
ALTER TABLE "books" ADD CONSTRAINT "books_author_id_fkey" FOREIGN KEY ("author_id") REFERENCES "authors" ("id") ON DELETE RESTRICT;
