-- Migration 20250102000000_rename-resource-with-join-table: down
-- Undoes up.sql. Data that up.sql dropped is not restored. `kiln migrate down` runs it in one transaction.
--
-- Changes:
--   drop primary key books_writers_pkey
--   drop index books_writers_writers_id_idx
--   rename resource writers → authors: table writers → authors
--   rename identity sequence writers_id_seq → authors_id_seq
--   rename primary key writers_pkey → authors_pkey
--   rename join table: table books_writers → authors_books
--   rename column authors_books.writers_id → authors_id
--   rename foreign key books_writers_writers_id_fkey → authors_books_authors_id_fkey
--   rename foreign key books_writers_books_id_fkey → authors_books_books_id_fkey
--   add primary key authors_books_pkey
--   add index authors_books_books_id_idx (books_id)

-- drop primary key books_writers_pkey
ALTER TABLE "books_writers" DROP CONSTRAINT "books_writers_pkey";

-- drop index books_writers_writers_id_idx
DROP INDEX "books_writers_writers_id_idx";

-- rename resource writers → authors: table writers → authors
ALTER TABLE "writers" RENAME TO "authors";

-- rename identity sequence writers_id_seq → authors_id_seq
ALTER SEQUENCE "writers_id_seq" RENAME TO "authors_id_seq";

-- rename primary key writers_pkey → authors_pkey
ALTER TABLE "authors" RENAME CONSTRAINT "writers_pkey" TO "authors_pkey";

-- rename join table: table books_writers → authors_books
ALTER TABLE "books_writers" RENAME TO "authors_books";

-- rename column authors_books.writers_id → authors_id
ALTER TABLE "authors_books" RENAME COLUMN "writers_id" TO "authors_id";

-- rename foreign key books_writers_writers_id_fkey → authors_books_authors_id_fkey
ALTER TABLE "authors_books" RENAME CONSTRAINT "books_writers_writers_id_fkey" TO "authors_books_authors_id_fkey";

-- rename foreign key books_writers_books_id_fkey → authors_books_books_id_fkey
ALTER TABLE "authors_books" RENAME CONSTRAINT "books_writers_books_id_fkey" TO "authors_books_books_id_fkey";

-- add primary key authors_books_pkey
ALTER TABLE "authors_books" ADD CONSTRAINT "authors_books_pkey" PRIMARY KEY ("authors_id", "books_id");

-- add index authors_books_books_id_idx (books_id)
CREATE INDEX "authors_books_books_id_idx" ON "authors_books" ("books_id");
