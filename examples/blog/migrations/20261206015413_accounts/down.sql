-- Migration 20261206015413_accounts: down
-- Undoes up.sql. Data that up.sql dropped is not restored. `kiln migrate down` runs it in one transaction.
--
-- Changes:
--   DESTRUCTIVE drop field users.roles
--   DESTRUCTIVE drop field users.verified
--   DESTRUCTIVE drop field users.disabled
--   DESTRUCTIVE alter field users.passwordHash: type varchar(255) → varchar(200), NOT NULL

-- DESTRUCTIVE: drops column users.roles and its data
-- drop field users.roles
ALTER TABLE "users" DROP COLUMN "roles";

-- DESTRUCTIVE: drops column users.verified and its data
-- drop field users.verified
ALTER TABLE "users" DROP COLUMN "verified";

-- DESTRUCTIVE: drops column users.disabled and its data
-- drop field users.disabled
ALTER TABLE "users" DROP COLUMN "disabled";

-- DESTRUCTIVE: narrows users.passwordHash from varchar(255) to varchar(200): values longer than 200 characters make the migration fail; fails if a row of users holds NULL in password_hash: set a value in such rows first
-- alter field users.passwordHash: type varchar(255) → varchar(200), NOT NULL
ALTER TABLE "users" ALTER COLUMN "password_hash" TYPE varchar(200);
ALTER TABLE "users" ALTER COLUMN "password_hash" SET NOT NULL;
