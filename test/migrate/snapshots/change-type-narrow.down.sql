-- Migration 20250102000000_change-type-narrow: down
-- Undoes up.sql. Data that up.sql dropped is not restored. `kiln migrate down` runs it in one transaction.
--
-- Changes:
--   alter field books.title: type varchar(100) → varchar(200)
--   DESTRUCTIVE alter field books.price: type integer → numeric(10, 2), default 0 → '0'

-- alter field books.title: type varchar(100) → varchar(200)
ALTER TABLE "books" ALTER COLUMN "title" TYPE varchar(200);

-- DESTRUCTIVE: narrows books.price from integer to numeric(10, 2): values with more than 8 digits before the point make the migration fail
-- alter field books.price: type integer → numeric(10, 2), default 0 → '0'
ALTER TABLE "books" ALTER COLUMN "price" DROP DEFAULT;
ALTER TABLE "books" ALTER COLUMN "price" TYPE numeric(10, 2);
ALTER TABLE "books" ALTER COLUMN "price" SET DEFAULT '0';
