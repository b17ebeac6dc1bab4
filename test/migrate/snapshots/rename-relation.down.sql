-- Migration 20250102000000_rename-relation: down
-- Undoes up.sql. Data that up.sql dropped is not restored. `kiln migrate down` runs it in one transaction.
--
-- Changes:
--   rename field books.writerId → authorId
--   rename index books_writer_id_idx → books_author_id_idx
--   rename foreign key books_writer_id_fkey → books_author_id_fkey

-- rename field books.writerId → authorId
ALTER TABLE "books" RENAME COLUMN "writer_id" TO "author_id";

-- rename index books_writer_id_idx → books_author_id_idx
ALTER INDEX "books_writer_id_idx" RENAME TO "books_author_id_idx";

-- rename foreign key books_writer_id_fkey → books_author_id_fkey
ALTER TABLE "books" RENAME CONSTRAINT "books_writer_id_fkey" TO "books_author_id_fkey";
