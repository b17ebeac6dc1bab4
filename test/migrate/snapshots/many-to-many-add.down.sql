-- Migration 20250102000000_many-to-many-add: down
-- Undoes up.sql. Data that up.sql dropped is not restored. `kiln migrate down` runs it in one transaction.
--
-- Changes:
--   DESTRUCTIVE drop join table authors_books (manyToMany authors ↔ books)

-- DESTRUCTIVE: drops table authors_books and every link between authors and books
-- drop join table authors_books (manyToMany authors ↔ books)
DROP TABLE "authors_books";
