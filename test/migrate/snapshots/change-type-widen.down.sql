-- Migration 20250102000000_change-type-widen: down
-- Undoes up.sql. Data that up.sql dropped is not restored. `kiln migrate down` runs it in one transaction.
--
-- Changes:
--   DESTRUCTIVE alter field books.title: type text → varchar(200)
--   DESTRUCTIVE alter field books.pages: type bigint → integer
--   DESTRUCTIVE alter field books.price: type numeric(12, 2) → numeric(10, 2)

-- DESTRUCTIVE: narrows books.title from text to varchar(200): values longer than 200 characters make the migration fail
-- alter field books.title: type text → varchar(200)
ALTER TABLE "books" ALTER COLUMN "title" TYPE varchar(200);

-- DESTRUCTIVE: narrows books.pages from bigint to integer: values outside the integer range make the migration fail
-- alter field books.pages: type bigint → integer
ALTER TABLE "books" ALTER COLUMN "pages" TYPE integer;

-- DESTRUCTIVE: narrows books.price from numeric(12, 2) to numeric(10, 2): values are rounded to 2 decimals, and values too large for numeric(10, 2) make the migration fail
-- alter field books.price: type numeric(12, 2) → numeric(10, 2)
ALTER TABLE "books" ALTER COLUMN "price" DROP DEFAULT;
ALTER TABLE "books" ALTER COLUMN "price" TYPE numeric(10, 2);
ALTER TABLE "books" ALTER COLUMN "price" SET DEFAULT '0';
