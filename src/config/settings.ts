/**
 * Every setting, declared once: its environment variable, type, default and meaning. Parsing,
 * validation and the table in docs/reference/configuration.md all come from this list (a test keeps
 * the docs equal to it).
 */
import { RATE_PATTERN } from '../ratelimit/rate.js';

type Kind = 'string' | 'integer' | 'boolean' | 'list';

interface SettingSpec<K extends Kind = Kind> {
  readonly env: string;
  readonly kind: K;
  readonly default: K extends 'integer' ? number : K extends 'boolean' ? boolean : K extends 'list' ? string[] : string;
  readonly description: string;
  readonly min?: number;
  readonly max?: number;
  readonly pattern?: RegExp;
  readonly oneOf?: readonly string[];
  /** Never echoed in an error message: it holds a secret. */
  readonly secret?: boolean;
}

function spec<K extends Kind>(s: SettingSpec<K>): SettingSpec<K> {
  return s;
}

export const SETTINGS = {
  host: spec({ env: 'HOST', kind: 'string', default: '0.0.0.0', description: 'Interface to listen on.' }),
  port: spec({ env: 'PORT', kind: 'integer', default: 3000, min: 0, max: 65535, description: 'TCP port to listen on (0 picks a free one).' }),
  databaseUrl: spec({
    env: 'DATABASE_URL',
    kind: 'string',
    default: '',
    description: 'PostgreSQL connection string. Empty: embedded PGlite in KILN_DATA_DIR.',
  }),
  dbSchema: spec({
    env: 'KILN_DB_SCHEMA',
    kind: 'string',
    default: 'public',
    pattern: /^[a-z_][a-z0-9_]{0,62}$/,
    description: 'PostgreSQL schema that holds the tables (created if missing).',
  }),
  dataDir: spec({
    env: 'KILN_DATA_DIR',
    kind: 'string',
    default: '.kiln',
    description: 'Where embedded PGlite keeps its data; `memory` keeps it in memory only.',
  }),
  dbPoolMax: spec({
    env: 'KILN_DB_POOL_MAX',
    kind: 'integer',
    default: 10,
    min: 1,
    max: 1000,
    description: 'Largest number of PostgreSQL connections in the pool.',
  }),
  dbConnectTimeoutMs: spec({
    env: 'KILN_DB_CONNECT_TIMEOUT_MS',
    kind: 'integer',
    default: 5000,
    min: 1,
    description: 'How long to wait for a new PostgreSQL connection.',
  }),
  dbIdleTimeoutMs: spec({
    env: 'KILN_DB_IDLE_TIMEOUT_MS',
    kind: 'integer',
    default: 30000,
    min: 0,
    description: 'How long an idle pooled connection is kept (0: forever).',
  }),
  dbStatementTimeoutMs: spec({
    env: 'KILN_DB_STATEMENT_TIMEOUT_MS',
    kind: 'integer',
    default: 10000,
    min: 0,
    description: 'PostgreSQL statement_timeout for every statement (0: none).',
  }),
  dbPooler: spec({
    env: 'KILN_DB_POOLER',
    kind: 'string',
    default: 'none',
    oneOf: ['none', 'transaction'],
    description:
      '`transaction`: DATABASE_URL is a pooler in transaction mode (PgBouncer `pool_mode = transaction`). Kiln then keeps no state on a connection between transactions: no named prepared statements, no startup options (the role must set search_path, TimeZone and statement_timeout, checked at start), and migrations are refused (run them on a direct URL).',
  }),
  databaseReplicaUrls: spec({
    env: 'DATABASE_REPLICA_URLS',
    kind: 'list',
    default: [],
    secret: true,
    description:
      'Comma-separated PostgreSQL URLs of read replicas of DATABASE_URL (only with it). Reads outside a transaction go to them, round-robin, unless the request has written; see docs/how-to/read-replicas.md.',
  }),
  databaseReplicaMaxLagMs: spec({
    env: 'DATABASE_REPLICA_MAX_LAG_MS',
    kind: 'integer',
    default: 0,
    min: 0,
    description: 'A replica further behind the primary than this (measured every second) serves no reads until it catches up (0: lag is not measured).',
  }),
  apiPrefix: spec({
    env: 'KILN_API_PREFIX',
    kind: 'string',
    default: '/v1',
    pattern: /^\/[a-z0-9][a-z0-9-]*$/,
    description: 'Version prefix of every REST route.',
  }),
  pageDefaultLimit: spec({
    env: 'KILN_PAGE_DEFAULT_LIMIT',
    kind: 'integer',
    default: 20,
    min: 1,
    max: 10000,
    description: 'Rows per list page when `limit` is not given.',
  }),
  pageMaxLimit: spec({ env: 'KILN_PAGE_MAX_LIMIT', kind: 'integer', default: 100, min: 1, max: 10000, description: 'Largest `limit` a client may ask for.' }),
  bulkMaxItems: spec({
    env: 'KILN_BULK_MAX_ITEMS',
    kind: 'integer',
    default: 1000,
    min: 1,
    max: 100000,
    description: 'Most records one bulk create may carry.',
  }),
  textMaxLength: spec({
    env: 'KILN_TEXT_MAX_LENGTH',
    kind: 'integer',
    default: 100000,
    min: 1,
    max: 10485760,
    description: 'Longest value, in characters, of a string or text field that declares no maxLength (400 above it).',
  }),
  includeMaxDepth: spec({
    env: 'KILN_INCLUDE_MAX_DEPTH',
    kind: 'integer',
    default: 3,
    min: 1,
    max: 10,
    description: 'Deepest `include` nesting a request may ask for (`include=a.b.c` is 3).',
  }),
  includeLimit: spec({
    env: 'KILN_INCLUDE_LIMIT',
    kind: 'integer',
    default: 20,
    min: 1,
    max: 10000,
    description: 'Most records a hasMany or manyToMany include embeds per parent record; a parent with more lists the relation in `_truncated`.',
  }),
  includeMaxRows: spec({
    env: 'KILN_INCLUDE_MAX_ROWS',
    kind: 'integer',
    default: 10000,
    min: 1,
    max: 1000000,
    description:
      'Most records one read may return at worst, counting the page and every included record; a request that could return more is refused with 400 before any SQL runs.',
  }),
  bodyLimit: spec({ env: 'KILN_BODY_LIMIT', kind: 'integer', default: 1048576, min: 1, description: 'Largest request body in bytes (413 above it).' }),
  maxHeaderSize: spec({
    env: 'KILN_MAX_HEADER_SIZE',
    kind: 'integer',
    default: 16384,
    min: 1024,
    description: 'Largest total size of request headers in bytes (431 above it).',
  }),
  requestTimeoutMs: spec({
    env: 'KILN_REQUEST_TIMEOUT_MS',
    kind: 'integer',
    default: 30000,
    min: 0,
    description: 'Longest time to receive a whole request (0: none).',
  }),
  keepAliveTimeoutMs: spec({
    env: 'KILN_KEEP_ALIVE_TIMEOUT_MS',
    kind: 'integer',
    default: 72000,
    min: 0,
    description: 'How long an idle keep-alive connection stays open (above typical load-balancer idle timeouts).',
  }),
  shutdownTimeoutMs: spec({
    env: 'KILN_SHUTDOWN_TIMEOUT_MS',
    kind: 'integer',
    default: 10000,
    min: 0,
    description:
      'On SIGTERM/SIGINT, how long in-flight requests may take before the process exits anyway (exit code 1). For the first second of it (at most half), requests on open keep-alive connections get 503 with Connection: close.',
  }),
  metrics: spec({
    env: 'KILN_METRICS',
    kind: 'boolean',
    default: false,
    description:
      'Collect metrics and serve them in the Prometheus format at GET /metrics: on a listener of their own at KILN_METRICS_HOST:KILN_METRICS_PORT, or on the public port when KILN_METRICS_TOKEN is set (docs/how-to/observability.md).',
  }),
  metricsHost: spec({
    env: 'KILN_METRICS_HOST',
    kind: 'string',
    default: '127.0.0.1',
    description: 'Interface the metrics listener listens on; the default keeps it off the network.',
  }),
  metricsPort: spec({
    env: 'KILN_METRICS_PORT',
    kind: 'integer',
    default: 9464,
    min: 0,
    max: 65535,
    description: 'TCP port of the metrics listener (0 picks a free one). Under `kiln serve --workers N` the primary serves it, with the sum of every worker.',
  }),
  metricsToken: spec({
    env: 'KILN_METRICS_TOKEN',
    kind: 'string',
    default: '',
    pattern: /^[\x21-\x7e]{16,}$/,
    secret: true,
    description:
      'Set: GET /metrics is served on the public port, only to `Authorization: Bearer <token>`, and no metrics listener is opened. At least 16 printable characters without spaces.',
  }),
  shedEventLoopDelayMs: spec({
    env: 'KILN_SHED_EVENT_LOOP_DELAY_MS',
    kind: 'integer',
    default: 1000,
    min: 0,
    max: 60000,
    description:
      'Load shedding: while the event loop runs later than this at two checks in a row (checked every 100 ms), requests are answered 503 KILN_OVERLOADED with Retry-After at once (0: never).',
  }),
  shedPoolWaitMs: spec({
    env: 'KILN_SHED_POOL_WAIT_MS',
    kind: 'integer',
    default: 20,
    min: 0,
    max: 60000,
    description:
      'Load shedding: while every statement of the last 100 ms waited longer than this for a PostgreSQL connection (a queue that does not drain), a request is answered 503 KILN_OVERLOADED with Retry-After at once while the statement at the head of the queue has waited more than twice this (0: never).',
  }),
  shedPoolQueue: spec({
    env: 'KILN_SHED_POOL_QUEUE',
    kind: 'integer',
    default: 100,
    min: 0,
    max: 1000000,
    description:
      'Load shedding: while more statements than this wait for a PostgreSQL connection, requests are answered 503 KILN_OVERLOADED with Retry-After at once (0: never).',
  }),
  corsOrigins: spec({
    env: 'KILN_CORS_ORIGINS',
    kind: 'list',
    default: [],
    description:
      'Comma-separated origins allowed by CORS, matched exactly; `http://localhost:*` allows any port of that host; `*` allows any origin (not with credentials). Empty: no cross-origin access under `kiln serve`; `kiln dev` then allows `http://localhost:*` and `http://127.0.0.1:*`.',
  }),
  corsCredentials: spec({
    env: 'KILN_CORS_CREDENTIALS',
    kind: 'boolean',
    default: false,
    description: 'Allow credentials on CORS requests (needs explicit origins; `*` is refused).',
  }),
  logLevel: spec({
    env: 'KILN_LOG_LEVEL',
    kind: 'string',
    default: 'info',
    oneOf: ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'],
    description: 'pino log level.',
  }),
  logFormat: spec({
    env: 'KILN_LOG_FORMAT',
    kind: 'string',
    default: 'auto',
    oneOf: ['auto', 'pretty', 'json'],
    description:
      'Log line format: `pretty` is one coloured line per entry for a developer, `json` one JSON object per line; `auto` is pretty when stdout is a terminal.',
  }),
  logSql: spec({
    env: 'KILN_LOG_SQL',
    kind: 'string',
    default: '0',
    oneOf: ['0', '1', 'values'],
    description:
      'Log every SQL statement with its duration (at info, with the request id): `1` without the parameter values, `values` with them (they may hold personal data).',
  }),
  otelEndpoint: spec({
    env: 'OTEL_EXPORTER_OTLP_ENDPOINT',
    kind: 'string',
    default: '',
    pattern: /^https?:\/\/\S+$/,
    description:
      'Base URL of an OpenTelemetry collector (OTLP over HTTP, JSON): traces of every request and SQL statement are sent to `<url>/v1/traces`. Empty: no traces, and the SDK is not loaded.',
  }),
  otelTracesEndpoint: spec({
    env: 'OTEL_EXPORTER_OTLP_TRACES_ENDPOINT',
    kind: 'string',
    default: '',
    pattern: /^https?:\/\/\S+$/,
    description: 'Full URL traces are sent to, used as given (`http://collector:4318/v1/traces`); takes precedence over OTEL_EXPORTER_OTLP_ENDPOINT.',
  }),
  otelServiceName: spec({
    env: 'OTEL_SERVICE_NAME',
    kind: 'string',
    default: '',
    description: 'The `service.name` of the traces. Empty: the one in OTEL_RESOURCE_ATTRIBUTES, else `kiln`.',
  }),
  cursorSecret: spec({
    env: 'KILN_CURSOR_SECRET',
    kind: 'string',
    default: '',
    secret: true,
    description:
      'Key that signs pagination cursors, the same on every instance (e.g. `openssl rand -base64 48`). Required by `kiln serve` on PostgreSQL (DATABASE_URL). Empty otherwise: a random key per process, so cursors die with it.',
  }),
  cursorPreviousSecrets: spec({
    env: 'KILN_CURSOR_PREVIOUS_SECRETS',
    kind: 'list',
    default: [],
    secret: true,
    description:
      'Comma-separated keys that signed cursors before KILN_CURSOR_SECRET: still accepted, never used to sign. To rotate, move the current key here and set a new one; remove it once its cursors are no longer in use.',
  }),
  idempotencyTtlHours: spec({
    env: 'KILN_IDEMPOTENCY_TTL_HOURS',
    kind: 'integer',
    default: 24,
    min: 1,
    max: 720,
    description: 'How long an Idempotency-Key replays its first response.',
  }),
  docs: spec({ env: 'KILN_DOCS', kind: 'boolean', default: true, description: 'Serve /docs and /openapi.json.' }),
  graphql: spec({
    env: 'KILN_GRAPHQL',
    kind: 'boolean',
    default: true,
    description: 'Serve the GraphQL API at /graphql (queries, mutations and subscriptions over WebSocket) from the same operations as REST.',
  }),
  graphqlMaxDepth: spec({
    env: 'KILN_GRAPHQL_MAX_DEPTH',
    kind: 'integer',
    default: 10,
    min: 1,
    max: 100,
    description:
      'Deepest nesting of fields a GraphQL document may have, fragments expanded (`{ posts { items { id } } }` is 3); deeper is refused with KILN_GRAPHQL_TOO_DEEP before it runs.',
  }),
  graphqlMaxCost: spec({
    env: 'KILN_GRAPHQL_MAX_COST',
    kind: 'integer',
    default: 5000,
    min: 1,
    max: 100000000,
    description:
      'Largest cost of a GraphQL document, counted before it runs in fields of records at worst: each field 1, the elements of a list their selection times the `limit` (or the number of `inputs` of a bulk mutation). A page of 20 posts of 10 fields, each with 20 comments of 5 fields, costs 2242. Above it: KILN_GRAPHQL_TOO_COSTLY.',
  }),
  graphqlMaxAliases: spec({
    env: 'KILN_GRAPHQL_MAX_ALIASES',
    kind: 'integer',
    default: 30,
    min: 0,
    max: 10000,
    description: 'Most aliased fields a GraphQL operation may run, fragments counted where spread (aliases repeat a field many times in one request).',
  }),
  graphqlMaxOperations: spec({
    env: 'KILN_GRAPHQL_MAX_OPERATIONS',
    kind: 'integer',
    default: 5,
    min: 1,
    max: 1000,
    description:
      'Most operation definitions one GraphQL document may hold; only the one `operationName` names runs, but all are parsed and validated (GraphiQL sends every operation of its editor).',
  }),
  graphqlIntrospection: spec({
    env: 'KILN_GRAPHQL_INTROSPECTION',
    kind: 'string',
    default: 'auto',
    oneOf: ['auto', 'on', 'off'],
    description:
      'Whether GraphQL clients may query `__schema` and `__type` (`__typename` always works). `auto`: on under `kiln dev` and when NODE_ENV is not `production`, off with NODE_ENV=production.',
  }),
  graphqlTrustedDocuments: spec({
    env: 'KILN_GRAPHQL_TRUSTED_DOCUMENTS',
    kind: 'string',
    default: '',
    description:
      'Path to a JSON manifest of trusted GraphQL documents, `{ "<sha256 hex>": "<document>" }` (the persisted documents of GraphQL Codegen), read and checked at start-up. Clients may then send `documentId` (or `extensions.persistedQuery.sha256Hash`, as Apollo does) instead of `query`.',
  }),
  graphqlTrustedOnly: spec({
    env: 'KILN_GRAPHQL_TRUSTED_ONLY',
    kind: 'boolean',
    default: false,
    description:
      'Run only the documents of KILN_GRAPHQL_TRUSTED_DOCUMENTS: a `query` whose sha256 is not in the manifest is refused with KILN_GRAPHQL_DOCUMENT_NOT_TRUSTED.',
  }),
  publicUrl: spec({
    env: 'KILN_PUBLIC_URL',
    kind: 'string',
    default: '',
    description: 'Base URL written into the OpenAPI `servers` list. Empty: a relative server.',
  }),
  problemTypeBase: spec({
    env: 'KILN_PROBLEM_TYPE_BASE',
    kind: 'string',
    default: 'https://kiln.dev/errors/',
    // The code is appended as is: the base ends where a path segment or a fragment starts.
    pattern: /^https?:\/\/\S+[/#]$/,
    description:
      'Start of every problem `type` URI; the error code is appended (`https://api.example.com/problems/KILN_NOT_FOUND`). An http(s) URL ending in `/` or `#`.',
  }),
  redisUrl: spec({
    env: 'REDIS_URL',
    kind: 'string',
    default: '',
    pattern: /^rediss?(\+sentinel)?:\/\//,
    secret: true,
    description:
      'Redis connection string: redis:// or rediss:// for one endpoint, redis+sentinel://host:port,host:port/master (rediss+sentinel:// with TLS) to find the primary through Sentinel. Set: sessions, rate limits, the response cache and change events live in Redis, shared by every instance. Empty: PostgreSQL and memory.',
  }),
  redisKeyPrefix: spec({
    env: 'KILN_REDIS_KEY_PREFIX',
    kind: 'string',
    default: 'kiln:',
    pattern: /^[A-Za-z0-9_.:-]{1,64}$/,
    description: "Start of every Redis key Kiln writes: give each application sharing one Redis server its own, so neither sees the other's sessions.",
  }),
  cacheTtl: spec({
    env: 'KILN_CACHE_TTL',
    kind: 'integer',
    default: 0,
    min: 0,
    max: 86400,
    description:
      'Seconds a REST read (get, list) stays in the response cache; 0: reads are not cached unless a resource sets `cache: { ttl }`. In Redis when REDIS_URL is set, in memory otherwise (docs/how-to/caching.md).',
  }),
  authJwtSecret: spec({
    env: 'KILN_AUTH_JWT_SECRET',
    kind: 'string',
    default: '',
    secret: true,
    description:
      'Key that signs access tokens with HS256: at least 32 bytes of random text. Needed when the model declares accounts, unless KILN_AUTH_JWT_KEYS is set.',
  }),
  authJwtKeys: spec({
    env: 'KILN_AUTH_JWT_KEYS',
    kind: 'string',
    default: '',
    description:
      'Path to a JSON Web Key Set of private keys (RS256, ES256 or EdDSA) that sign access tokens; the first signs, all verify, and their public halves are served at /.well-known/jwks.json. Takes precedence over KILN_AUTH_JWT_SECRET.',
  }),
  authIssuer: spec({
    env: 'KILN_AUTH_ISSUER',
    kind: 'string',
    default: '',
    description: 'The `iss` of the access tokens Kiln issues. Empty: KILN_PUBLIC_URL, or `kiln` without one.',
  }),
  authAudience: spec({
    env: 'KILN_AUTH_AUDIENCE',
    kind: 'string',
    default: 'kiln-api',
    description: 'The `aud` of the access tokens Kiln issues and requires.',
  }),
  authAccessTtlS: spec({
    env: 'KILN_AUTH_ACCESS_TTL_S',
    kind: 'integer',
    default: 900,
    min: 30,
    max: 86400,
    description: 'Lifetime of an access token in seconds.',
  }),
  authRefreshTtlS: spec({
    env: 'KILN_AUTH_REFRESH_TTL_S',
    kind: 'integer',
    default: 2592000,
    min: 60,
    max: 31536000,
    description: 'Lifetime of a refresh token family in seconds, from the login that started it.',
  }),
  authClockSkewS: spec({
    env: 'KILN_AUTH_CLOCK_SKEW_S',
    kind: 'integer',
    default: 30,
    min: 0,
    max: 300,
    description: 'Clock difference tolerated when checking `exp`, `nbf` and `iat` of a token.',
  }),
  authSessionIdleS: spec({
    env: 'KILN_AUTH_SESSION_IDLE_S',
    kind: 'integer',
    default: 7200,
    min: 60,
    max: 2592000,
    description: 'A browser session unused for this many seconds ends.',
  }),
  authSessionAbsoluteS: spec({
    env: 'KILN_AUTH_SESSION_ABSOLUTE_S',
    kind: 'integer',
    default: 604800,
    min: 60,
    max: 31536000,
    description: 'A browser session ends this many seconds after its login, however active.',
  }),
  authCookieSecure: spec({
    env: 'KILN_AUTH_COOKIE_SECURE',
    kind: 'boolean',
    default: true,
    description: 'Mark the session cookie Secure (sent over HTTPS only). Set false only for local development over plain HTTP; `kiln dev` does.',
  }),
  authLinkBase: spec({
    env: 'KILN_AUTH_LINK_BASE',
    kind: 'string',
    default: '',
    description:
      'Start of the links in password-reset and verification mails: `<base>?token=…&purpose=reset` (or `verify`), usually a page of your front end that POSTs the token to /auth/password/reset or /auth/verify. Empty: the mail names that API route under KILN_PUBLIC_URL (http://localhost:<port> without one), to POST the token to.',
  }),
  passwordMemoryKib: spec({
    env: 'KILN_PASSWORD_MEMORY_KIB',
    kind: 'integer',
    default: 19456,
    min: 8192,
    max: 1048576,
    description: 'Memory cost of argon2id password hashing in KiB. A login with a hash made with other costs rehashes it.',
  }),
  passwordTimeCost: spec({
    env: 'KILN_PASSWORD_TIME_COST',
    kind: 'integer',
    default: 2,
    min: 1,
    max: 20,
    description: 'Iterations of argon2id password hashing.',
  }),
  authRateLimitIp: spec({
    env: 'KILN_AUTH_RATE_LIMIT_IP',
    kind: 'integer',
    default: 30,
    min: 1,
    max: 100000,
    description: 'Attempts at login, signup, password reset and verification one client IP may make per KILN_AUTH_RATE_WINDOW_S.',
  }),
  authRateLimitAccount: spec({
    env: 'KILN_AUTH_RATE_LIMIT_ACCOUNT',
    kind: 'integer',
    default: 10,
    min: 1,
    max: 100000,
    description: 'Attempts at login, password reset and verification for one account (by login) per KILN_AUTH_RATE_WINDOW_S.',
  }),
  authRateWindowS: spec({
    env: 'KILN_AUTH_RATE_WINDOW_S',
    kind: 'integer',
    default: 900,
    min: 1,
    max: 86400,
    description: 'The window of the auth rate limits, in seconds.',
  }),
  rateLimit: spec({
    env: 'KILN_RATE_LIMIT',
    kind: 'string',
    default: '1000/min',
    pattern: RATE_PATTERN,
    description:
      'Calls to the API (REST and GraphQL root fields) one caller may make per window, across every resource without a `rateLimit` of its own: `<calls>/<unit>` with unit s, min, h or day (`20/15min`: 20 per 15 minutes), or `off`. A caller is its account, its API key, or else its client IP (docs/how-to/rate-limits.md).',
  }),
  rateLimitCostRows: spec({
    env: 'KILN_RATE_LIMIT_COST_ROWS',
    kind: 'integer',
    default: 0,
    min: 0,
    max: 100000,
    description:
      'Weigh calls by their work: a call counts ⌈rows ÷ this⌉ × (1 + relations included), rows being the `limit` asked (the default page size without one) or the records of a bulk create. 0: every call counts 1.',
  }),
  rateLimitRedisDown: spec({
    env: 'KILN_RATE_LIMIT_REDIS_DOWN',
    kind: 'string',
    default: 'memory',
    oneOf: ['memory', 'open', 'closed'],
    description:
      'What the rate limits do while Redis (REDIS_URL) cannot be reached: `memory` counts in each instance until it is back, `open` lets every call through, `closed` refuses every call with 503 KILN_REDIS_UNAVAILABLE. A warning is logged once per outage.',
  }),
  trustProxy: spec({
    env: 'KILN_TRUST_PROXY',
    kind: 'string',
    default: 'off',
    pattern: /^(off|true|[1-9][0-9]?|[0-9A-Fa-f.:/]+(,[0-9A-Fa-f.:/]+)*)$/,
    description:
      'Whom to believe about the client address in X-Forwarded-For (the IP that the rate limits of the API and of sign-in key by): `off` (the address of the connection), `true` (every proxy: only when one in front overwrites the header), a number of proxy hops, or the comma-separated addresses or CIDR ranges of your proxies.',
  }),
  smtpUrl: spec({
    env: 'KILN_SMTP_URL',
    kind: 'string',
    default: '',
    pattern: /^smtps?:\/\//,
    secret: true,
    description:
      'Where mail goes: smtp://user:password@host:587 or smtps://…. Empty: `kiln dev` prints mail to its log; `kiln serve` refuses the flows that need mail.',
  }),
  mailFrom: spec({ env: 'KILN_MAIL_FROM', kind: 'string', default: 'Kiln <no-reply@localhost>', description: 'The From of the mail Kiln sends.' }),
  authApiKeyHeader: spec({
    env: 'KILN_AUTH_API_KEY_HEADER',
    kind: 'string',
    default: 'x-api-key',
    pattern: /^[A-Za-z0-9][A-Za-z0-9-]{0,63}$/,
    description: 'The request header that may carry an API key, besides `Authorization: Bearer kiln_…` (not Authorization or Cookie).',
  }),
};

export type SettingName = keyof typeof SETTINGS;
export type Settings = { -readonly [K in SettingName]: (typeof SETTINGS)[K]['default'] };

/** Typed helper for a settings file (`--config kiln.settings.ts`); environment variables override it. */
export function defineSettings(settings: Partial<Settings>): Partial<Settings> {
  return settings;
}

export class ConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ConfigError';
  }
}

/**
 * Builds the settings from (lowest to highest precedence) defaults, a config file's object and the
 * environment. Throws one ConfigError naming every invalid variable.
 */
export function resolveSettings(env: NodeJS.ProcessEnv, file: Record<string, unknown> = {}, overrides: Partial<Settings> = {}): Settings {
  const out: Record<string, unknown> = {};
  const problems: string[] = [];
  for (const key of Object.keys(file)) {
    if (!(key in SETTINGS)) problems.push(`config file: unknown setting "${key}" (known: ${Object.keys(SETTINGS).join(', ')})`);
  }
  for (const [name, s] of Object.entries(SETTINGS) as [SettingName, SettingSpec][]) {
    let value: unknown = s.default;
    if (name in file) {
      const parsed = checkValue(s, file[name], `config file "${name}"`);
      if (parsed instanceof Invalid) problems.push(parsed.problem);
      else value = parsed;
    }
    const raw = env[s.env];
    if (raw !== undefined && raw !== '') {
      const parsed = parseEnv(s, raw);
      if (parsed instanceof Invalid) problems.push(parsed.problem);
      else value = parsed;
    }
    if (name in overrides && overrides[name] !== undefined) value = overrides[name];
    out[name] = value;
  }
  const settings = out as Settings;
  if (settings.pageDefaultLimit > settings.pageMaxLimit)
    problems.push(`KILN_PAGE_DEFAULT_LIMIT (${settings.pageDefaultLimit}) is above KILN_PAGE_MAX_LIMIT (${settings.pageMaxLimit})`);
  if (settings.corsCredentials && settings.corsOrigins.includes('*'))
    problems.push('KILN_CORS_ORIGINS: "*" cannot be used with KILN_CORS_CREDENTIALS=true; list the origins');
  // Only the scheme is quoted: the rest of the URL may hold a password.
  if (settings.databaseUrl && !/^postgres(ql)?:\/\//i.test(settings.databaseUrl)) {
    const scheme = /^([a-z][a-z0-9+.-]*):\/\//i.exec(settings.databaseUrl)?.[1];
    problems.push(
      `DATABASE_URL: ${scheme ? `"${scheme}://" is not a PostgreSQL URL` : 'not a URL'}; use postgres://user:password@host:5432/database, or leave it empty for embedded PGlite`,
    );
  }
  problems.push(...replicaProblems(settings));
  if (problems.length > 0) throw new ConfigError(`invalid configuration:\n  - ${problems.join('\n  - ')}`);
  return settings;
}

/** Read replicas serve a PostgreSQL primary; a URL is named by its position only, as it may hold a password. */
function replicaProblems(settings: Settings): string[] {
  const urls = settings.databaseReplicaUrls;
  if (urls.length === 0) return [];
  if (!settings.databaseUrl)
    return [
      'DATABASE_REPLICA_URLS: read replicas need DATABASE_URL (embedded PGlite has none); set DATABASE_URL to the primary, or remove DATABASE_REPLICA_URLS',
    ];
  return urls.flatMap((url, i) =>
    /^postgres(ql)?:\/\/./i.test(url) ? [] : [`DATABASE_REPLICA_URLS: URL ${i + 1} is not a PostgreSQL URL; use postgres://user:password@host:5432/database`],
  );
}

/** A value that failed its check, with the sentence that says why. */
class Invalid {
  constructor(readonly problem: string) {}
}

function parseEnv(s: SettingSpec, raw: string): unknown {
  const where = s.env;
  switch (s.kind) {
    case 'integer':
      if (!/^-?\d+$/.test(raw.trim())) return new Invalid(`${where}: "${raw}" is not a whole number`);
      return checkValue(s, Number(raw), where);
    case 'boolean':
      if (/^(true|1|yes|on)$/i.test(raw)) return true;
      if (/^(false|0|no|off)$/i.test(raw)) return false;
      return new Invalid(`${where}: "${raw}" is not a boolean (use true or false)`);
    case 'list':
      return checkValue(
        s,
        raw
          .split(',')
          .map((v) => v.trim())
          .filter(Boolean),
        where,
      );
    default:
      return checkValue(s, raw, where);
  }
}

function checkValue(s: SettingSpec, value: unknown, where: string): unknown {
  switch (s.kind) {
    case 'integer':
      if (!Number.isSafeInteger(value)) return new Invalid(`${where}: expected a whole number`);
      if (s.min !== undefined && (value as number) < s.min) return new Invalid(`${where}: ${value} is below the minimum ${s.min}`);
      if (s.max !== undefined && (value as number) > s.max) return new Invalid(`${where}: ${value} is above the maximum ${s.max}`);
      return value;
    case 'boolean':
      return typeof value === 'boolean' ? value : new Invalid(`${where}: expected true or false`);
    case 'list':
      return Array.isArray(value) && value.every((v) => typeof v === 'string') ? value : new Invalid(`${where}: expected a list of strings`);
    default:
      if (typeof value !== 'string') return new Invalid(`${where}: expected a string`);
      if (s.pattern && !s.pattern.test(value))
        return new Invalid(
          s.secret ? `${where}: not of the form ${s.pattern} (the value is not shown: it holds a secret)` : `${where}: "${value}" does not match ${s.pattern}`,
        );
      if (s.oneOf && !s.oneOf.includes(value)) return new Invalid(`${where}: "${value}" is not one of ${s.oneOf.join(', ')}`);
      return value;
  }
}
