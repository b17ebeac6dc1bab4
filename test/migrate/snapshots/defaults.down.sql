-- Migration 20250102000000_defaults: down
-- Undoes up.sql. Data that up.sql dropped is not restored. `kiln migrate down` runs it in one transaction.
--
-- Changes:
--   alter field books.pages: default 100 → none
--   alter field books.price: default '9.99' → '0'
--   alter field books.genre: default none → 'fiction'

-- alter field books.pages: default 100 → none
ALTER TABLE "books" ALTER COLUMN "pages" DROP DEFAULT;

-- alter field books.price: default '9.99' → '0'
ALTER TABLE "books" ALTER COLUMN "price" SET DEFAULT '0';

-- alter field books.genre: default none → 'fiction'
ALTER TABLE "books" ALTER COLUMN "genre" SET DEFAULT 'fiction';
