-- Migration 20250102000000_nullability: down
-- Undoes up.sql. Data that up.sql dropped is not restored. `kiln migrate down` runs it in one transaction.
--
-- Changes:
--   DESTRUCTIVE alter field authors.name: NOT NULL
--   alter field authors.email: nullable
--   alter field books.pages: default 0 → none, nullable

-- DESTRUCTIVE: fails if a row of authors holds NULL in name: set a value in such rows first
-- alter field authors.name: NOT NULL
ALTER TABLE "authors" ALTER COLUMN "name" SET NOT NULL;

-- alter field authors.email: nullable
ALTER TABLE "authors" ALTER COLUMN "email" DROP NOT NULL;

-- alter field books.pages: default 0 → none, nullable
ALTER TABLE "books" ALTER COLUMN "pages" DROP DEFAULT;
ALTER TABLE "books" ALTER COLUMN "pages" DROP NOT NULL;
