-- Migration 20250102000000_create-resource: down
-- Undoes up.sql. Data that up.sql dropped is not restored. `kiln migrate down` runs it in one transaction.
--
-- Changes:
--   DESTRUCTIVE drop resource publishers (table publishers)

-- DESTRUCTIVE: drops table publishers and every row in it
-- drop resource publishers (table publishers)
DROP TABLE "publishers";
