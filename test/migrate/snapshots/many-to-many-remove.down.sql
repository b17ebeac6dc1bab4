-- Migration 20250102000000_many-to-many-remove: down
-- Undoes up.sql. Data that up.sql dropped is not restored. `kiln migrate down` runs it in one transaction.
--
-- Changes:
--   create join table authors_books (manyToMany authors ↔ books)

-- create join table authors_books (manyToMany authors ↔ books)
CREATE TABLE "authors_books" (
  "authors_id" bigint NOT NULL,
  "books_id" bigint NOT NULL,
  CONSTRAINT "authors_books_pkey" PRIMARY KEY ("authors_id", "books_id"),
  CONSTRAINT "authors_books_authors_id_fkey" FOREIGN KEY ("authors_id") REFERENCES "authors" ("id") ON DELETE CASCADE,
  CONSTRAINT "authors_books_books_id_fkey" FOREIGN KEY ("books_id") REFERENCES "books" ("id") ON DELETE CASCADE
);
CREATE INDEX "authors_books_books_id_idx" ON "authors_books" ("books_id");
