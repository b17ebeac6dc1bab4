-- Migration 20261206063147_author-posts-index: down
-- Undoes up.sql. Data that up.sql dropped is not restored. `kiln migrate down` runs it in one transaction.
--
-- Changes:
--   drop index posts_author_id_id_idx
--   add index posts_author_id_created_at_idx (author_id, created_at)

-- drop index posts_author_id_id_idx
DROP INDEX "posts_author_id_id_idx";

-- add index posts_author_id_created_at_idx (author_id, created_at)
CREATE INDEX "posts_author_id_created_at_idx" ON "posts" ("author_id", "created_at");
