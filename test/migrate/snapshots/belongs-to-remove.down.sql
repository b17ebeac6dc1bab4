-- Migration 20250102000000_belongs-to-remove: down
-- Undoes up.sql. Data that up.sql dropped is not restored. `kiln migrate down` runs it in one transaction.
--
-- Changes:
--   DESTRUCTIVE add field books.authorId
--   add index books_author_id_idx (author_id)
--   add foreign key books_author_id_fkey → authors (on delete restrict)

-- DESTRUCTIVE: fails if books has rows: books.authorId is NOT NULL without a default; edit this step to add the column without NOT NULL, fill it with an UPDATE, then SET NOT NULL
-- add field books.authorId
ALTER TABLE "books" ADD COLUMN "author_id" bigint NOT NULL;

-- add index books_author_id_idx (author_id)
CREATE INDEX "books_author_id_idx" ON "books" ("author_id");

-- add foreign key books_author_id_fkey → authors (on delete restrict)
ALTER TABLE "books" ADD CONSTRAINT "books_author_id_fkey" FOREIGN KEY ("author_id") REFERENCES "authors" ("id") ON DELETE RESTRICT;
