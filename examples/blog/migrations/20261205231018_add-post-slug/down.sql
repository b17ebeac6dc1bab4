-- Migration 20261205231018_add-post-slug: down
-- Undoes up.sql. Data that up.sql dropped is not restored. `kiln migrate down` runs it in one transaction.
--
-- Changes:
--   drop unique constraint posts_slug_key
--   DESTRUCTIVE drop field posts.slug

-- drop unique constraint posts_slug_key
ALTER TABLE "posts" DROP CONSTRAINT "posts_slug_key";

-- DESTRUCTIVE: drops column posts.slug and its data
-- drop field posts.slug
ALTER TABLE "posts" DROP COLUMN "slug";
