-- Migration 20250102000000_belongs-to-add: down
-- Undoes up.sql. Data that up.sql dropped is not restored. `kiln migrate down` runs it in one transaction.
--
-- Changes:
--   drop foreign key books_editor_id_fkey → authors
--   drop index books_editor_id_idx
--   DESTRUCTIVE drop field books.editorId

-- drop foreign key books_editor_id_fkey → authors
ALTER TABLE "books" DROP CONSTRAINT "books_editor_id_fkey";

-- drop index books_editor_id_idx
DROP INDEX "books_editor_id_idx";

-- DESTRUCTIVE: drops column books.editor_id and its data
-- drop field books.editorId
ALTER TABLE "books" DROP COLUMN "editor_id";
