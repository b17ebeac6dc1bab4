-- Migration 20261125082205_initial: down
-- Undoes up.sql. Data that up.sql dropped is not restored. `kiln migrate down` runs it in one transaction.
--
-- Changes:
--   drop foreign key posts_author_id_fkey (its table posts is dropped)
--   drop foreign key comments_post_id_fkey (its table comments is dropped)
--   drop foreign key comments_author_id_fkey (its table comments is dropped)
--   DESTRUCTIVE drop join table posts_tags (manyToMany posts ↔ tags)
--   DESTRUCTIVE drop resource users (table users)
--   DESTRUCTIVE drop resource posts (table posts)
--   DESTRUCTIVE drop resource comments (table comments)
--   DESTRUCTIVE drop resource tags (table tags)

-- drop foreign key posts_author_id_fkey (its table posts is dropped)
ALTER TABLE "posts" DROP CONSTRAINT "posts_author_id_fkey";

-- drop foreign key comments_post_id_fkey (its table comments is dropped)
ALTER TABLE "comments" DROP CONSTRAINT "comments_post_id_fkey";

-- drop foreign key comments_author_id_fkey (its table comments is dropped)
ALTER TABLE "comments" DROP CONSTRAINT "comments_author_id_fkey";

-- DESTRUCTIVE: drops table posts_tags and every link between posts and tags
-- drop join table posts_tags (manyToMany posts ↔ tags)
DROP TABLE "posts_tags";

-- DESTRUCTIVE: drops table users and every row in it
-- drop resource users (table users)
DROP TABLE "users";

-- DESTRUCTIVE: drops table posts and every row in it
-- drop resource posts (table posts)
DROP TABLE "posts";

-- DESTRUCTIVE: drops table comments and every row in it
-- drop resource comments (table comments)
DROP TABLE "comments";

-- DESTRUCTIVE: drops table tags and every row in it
-- drop resource tags (table tags)
DROP TABLE "tags";
