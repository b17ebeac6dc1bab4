/**
 * Kiln's own tables for authentication, created beside the model's when the model declares `auth`
 * (like kiln_idempotency_keys, they are not part of the model and its migrations). Account ids are
 * kept as text, whatever the account resource's id type. Secrets are never stored: tokens, session
 * ids and keys are kept as SHA-256 hashes, so a copy of the database signs nobody in.
 */
export const AUTH_TABLES: readonly string[] = [
  `CREATE TABLE IF NOT EXISTS "kiln_auth_refresh_tokens" (
  "token_hash" text PRIMARY KEY,
  "family" uuid NOT NULL,
  "account_id" text NOT NULL,
  "created_at" timestamptz NOT NULL DEFAULT now(),
  "family_expires_at" timestamptz NOT NULL,
  "used_at" timestamptz,
  "revoked_at" timestamptz
)`,
  `CREATE INDEX IF NOT EXISTS "kiln_auth_refresh_tokens_family" ON "kiln_auth_refresh_tokens" ("family")`,
  `CREATE INDEX IF NOT EXISTS "kiln_auth_refresh_tokens_account" ON "kiln_auth_refresh_tokens" ("account_id")`,
  `CREATE TABLE IF NOT EXISTS "kiln_auth_sessions" (
  "id_hash" text PRIMARY KEY,
  "account_id" text NOT NULL,
  "csrf_token" text NOT NULL,
  "roles" jsonb NOT NULL DEFAULT '[]',
  "password_stamp" text NOT NULL,
  "created_at" timestamptz NOT NULL DEFAULT now(),
  "last_seen_at" timestamptz NOT NULL DEFAULT now(),
  "expires_at" timestamptz NOT NULL
)`,
  `CREATE INDEX IF NOT EXISTS "kiln_auth_sessions_account" ON "kiln_auth_sessions" ("account_id")`,
  `CREATE TABLE IF NOT EXISTS "kiln_auth_api_keys" (
  "id" uuid PRIMARY KEY,
  "lookup" text NOT NULL UNIQUE,
  "secret_hash" text NOT NULL,
  "name" text NOT NULL,
  "account_id" text NOT NULL,
  "roles" jsonb NOT NULL DEFAULT '[]',
  "created_at" timestamptz NOT NULL DEFAULT now(),
  "expires_at" timestamptz,
  "revoked_at" timestamptz,
  "last_used_at" timestamptz
)`,
  `CREATE INDEX IF NOT EXISTS "kiln_auth_api_keys_account" ON "kiln_auth_api_keys" ("account_id")`,
  `CREATE TABLE IF NOT EXISTS "kiln_auth_one_time_tokens" (
  "token_hash" text PRIMARY KEY,
  "purpose" text NOT NULL,
  "account_id" text NOT NULL,
  "created_at" timestamptz NOT NULL DEFAULT now(),
  "expires_at" timestamptz NOT NULL,
  "used_at" timestamptz
)`,
  `CREATE INDEX IF NOT EXISTS "kiln_auth_one_time_tokens_account" ON "kiln_auth_one_time_tokens" ("account_id", "purpose")`,
  `CREATE TABLE IF NOT EXISTS "kiln_auth_identities" (
  "provider" text NOT NULL,
  "subject" text NOT NULL,
  "account_id" text NOT NULL,
  "created_at" timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY ("provider", "subject")
)`,
  `CREATE TABLE IF NOT EXISTS "kiln_auth_oidc_flows" (
  "state_hash" text PRIMARY KEY,
  "provider" text NOT NULL,
  "code_verifier" text NOT NULL,
  "nonce" text NOT NULL,
  "mode" text NOT NULL,
  "redirect" text,
  "browser_hash" text NOT NULL,
  "created_at" timestamptz NOT NULL DEFAULT now(),
  "expires_at" timestamptz NOT NULL
)`,
];
