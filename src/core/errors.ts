/**
 * The one registry of error codes. Every error a client can see is declared here once, with its
 * HTTP status and title; `docs/reference/errors.md` is kept equal to it by a test. Codes are never reused.
 */
export const ERRORS = {
  KILN_VALIDATION_FAILED: { status: 400, title: 'Request validation failed', fix: 'Correct the fields listed in `errors` and send again.' },
  KILN_QUERY_INVALID: { status: 400, title: 'Invalid query parameter', fix: 'See the query grammar in docs/reference/query.md; `errors` names the parameter.' },
  KILN_CURSOR_INVALID: { status: 400, title: 'Invalid pagination cursor', fix: 'Use the `page.nextCursor` value exactly as returned, with the same sort.' },
  KILN_BODY_MALFORMED: { status: 400, title: 'Malformed request body', fix: 'Send a valid JSON document.' },
  KILN_BODY_MISSING: { status: 400, title: 'Request body is missing', fix: 'Send a JSON body with the request.' },
  KILN_PATH_INVALID: { status: 400, title: 'Invalid path parameter', fix: "Use an identifier of the resource's id type." },
  KILN_BAD_REQUEST: { status: 400, title: 'Bad request', fix: 'The HTTP request could not be read; check the client.' },
  KILN_HEADER_INVALID: { status: 400, title: 'Invalid request header', fix: 'Correct the header named in `detail`.' },
  KILN_GRAPHQL_INVALID: {
    status: 400,
    title: 'Invalid GraphQL document',
    fix: 'The document does not parse or does not fit the schema: `kiln graphql` prints the schema; the message names the line and column.',
  },
  KILN_GRAPHQL_TOO_DEEP: { status: 400, title: 'GraphQL document too deep', fix: 'Nest fewer selections, or raise KILN_GRAPHQL_MAX_DEPTH.' },
  KILN_GRAPHQL_TOO_COSTLY: {
    status: 400,
    title: 'GraphQL document too costly',
    fix: 'Ask for smaller lists (`limit`) or fewer nested lists, or raise KILN_GRAPHQL_MAX_COST; `detail` gives the cost.',
  },
  KILN_GRAPHQL_TOO_MANY_ALIASES: { status: 400, title: 'Too many aliases in a GraphQL document', fix: 'Use fewer aliases, or raise KILN_GRAPHQL_MAX_ALIASES.' },
  KILN_GRAPHQL_TOO_MANY_OPERATIONS: {
    status: 400,
    title: 'Too many operations in a GraphQL document',
    fix: 'Send only the operations you run, or raise KILN_GRAPHQL_MAX_OPERATIONS.',
  },
  KILN_GRAPHQL_INTROSPECTION_DISABLED: {
    status: 400,
    title: 'GraphQL introspection is disabled',
    fix: 'This server does not describe its schema: get the SDL from `kiln graphql`, or set KILN_GRAPHQL_INTROSPECTION.',
  },
  KILN_GRAPHQL_DOCUMENT_NOT_TRUSTED: {
    status: 400,
    title: 'GraphQL document not on the allow-list',
    fix: 'This server runs only the documents of its allow-list (KILN_GRAPHQL_TRUSTED_DOCUMENTS): send the id of one of them.',
  },
  KILN_GRAPHQL_DOCUMENT_UNKNOWN: {
    status: 400,
    title: 'Unknown GraphQL document id',
    fix: 'The document id is not on the allow-list: regenerate the list from your client and deploy it.',
  },
  KILN_AUTH_TOKEN_INVALID: {
    status: 400,
    title: 'Invalid or expired link',
    fix: 'The token of a reset or verification mail works once and expires (30 minutes, 24 hours): ask for a new mail.',
  },
  KILN_AUTH_OIDC_STATE_INVALID: {
    status: 400,
    title: 'Sign-in with an identity provider expired or already used',
    fix: 'The sign-in link works once, for 10 minutes, in the browser that started it: start the sign-in again.',
  },
  KILN_AUTH_REDIRECT_NOT_ALLOWED: {
    status: 400,
    title: 'Redirect not allowed',
    fix: 'Redirect only to an origin of KILN_CORS_ORIGINS or of KILN_AUTH_LINK_BASE.',
  },
  KILN_UNAUTHENTICATED: {
    status: 401,
    title: 'Authentication required',
    fix: 'Send valid credentials; the `WWW-Authenticate` header names the scheme.',
  },
  KILN_FORBIDDEN: { status: 403, title: 'Forbidden', fix: 'Your role may not perform this operation; ask an operator for access.' },
  KILN_AUTH_INVALID_CREDENTIALS: { status: 401, title: 'Invalid login or password', fix: 'Check the login and the password and try again.' },
  KILN_AUTH_REFRESH_INVALID: { status: 401, title: 'Invalid refresh token', fix: 'The refresh token is unknown, revoked or expired: sign in again.' },
  KILN_AUTH_REFRESH_REUSED: {
    status: 401,
    title: 'Refresh token already used',
    fix: 'Every token of this sign-in was revoked as a precaution: sign in again, and send each refresh token only once.',
  },
  KILN_AUTH_OIDC_FAILED: {
    status: 401,
    title: 'Sign-in with the identity provider failed',
    fix: 'The provider refused the sign-in, or its answer could not be verified: start the sign-in again.',
  },
  KILN_AUTH_ACCOUNT_DISABLED: { status: 403, title: 'Account disabled', fix: 'This account may not sign in; ask an operator to enable it.' },
  KILN_AUTH_NOT_VERIFIED: { status: 403, title: 'Email address not verified', fix: 'Follow the link in the verification mail, or ask for a new one.' },
  KILN_AUTH_CSRF: {
    status: 403,
    title: 'CSRF token missing or wrong',
    fix: 'A request with the session cookie that changes something must send the header X-CSRF-Token: the `csrfToken` of POST or GET /auth/session.',
  },
  KILN_AUTH_NO_ACCOUNT: {
    status: 403,
    title: 'No account for this identity',
    fix: 'No account is linked to this identity and none may be created from it: sign up first, or ask an operator.',
  },
  KILN_NOT_FOUND: { status: 404, title: 'Resource not found', fix: 'Check the id; it may have been deleted.' },
  KILN_ROUTE_NOT_FOUND: { status: 404, title: 'Route not found', fix: 'See /openapi.json or /docs for the routes this API serves.' },
  KILN_METHOD_NOT_ALLOWED: { status: 405, title: 'Method not allowed', fix: 'Use one of the methods in the `Allow` header.' },
  KILN_NOT_ACCEPTABLE: { status: 406, title: 'Not acceptable', fix: 'Accept application/json.' },
  KILN_REQUEST_TIMEOUT: { status: 408, title: 'Request timeout', fix: 'Send the request faster, or raise KILN_REQUEST_TIMEOUT_MS.' },
  KILN_AUTH_KEY_LIMIT: {
    status: 409,
    title: 'Too many API keys',
    fix: 'Revoke API keys that are no longer used (DELETE /auth/api-keys/:id), then create the new one.',
  },
  KILN_UNIQUE_VIOLATION: {
    status: 409,
    title: 'Unique constraint violated',
    fix: 'Another record already has this value; choose another or update that record.',
  },
  KILN_REFERENCE_IN_USE: { status: 409, title: 'Record is still referenced', fix: 'Delete or re-point the records that reference it first.' },
  KILN_IDEMPOTENCY_IN_PROGRESS: {
    status: 409,
    title: 'Request with this Idempotency-Key is in progress',
    fix: 'Wait for the first request to finish, then retry.',
  },
  KILN_PRECONDITION_FAILED: {
    status: 412,
    title: 'Precondition failed',
    fix: 'The record changed since you read it: GET it again and retry with the new ETag.',
  },
  KILN_BODY_TOO_LARGE: { status: 413, title: 'Request body too large', fix: 'Send a smaller body, or raise KILN_BODY_LIMIT.' },
  KILN_URI_TOO_LONG: { status: 414, title: 'URI too long', fix: 'Send a shorter path or query string; ids are at most 200 characters.' },
  KILN_UNSUPPORTED_MEDIA_TYPE: { status: 415, title: 'Unsupported media type', fix: 'Send Content-Type: application/json.' },
  KILN_HEADERS_TOO_LARGE: { status: 431, title: 'Request headers too large', fix: 'Send fewer or smaller headers, or raise KILN_MAX_HEADER_SIZE.' },
  KILN_REFERENCE_NOT_FOUND: { status: 422, title: 'Related record not found', fix: 'Point the relation at a record that exists.' },
  KILN_IDEMPOTENCY_KEY_REUSED: { status: 422, title: 'Idempotency-Key reused with a different request', fix: 'Use a new key for a different request.' },
  KILN_RATE_LIMITED: { status: 429, title: 'Too many requests', fix: 'Wait for the number of seconds in `Retry-After`, then retry.' },
  KILN_INTERNAL: { status: 500, title: 'Internal server error', fix: 'Report the `instance` (request id) to the operator; the cause is in the server log.' },
  KILN_DATABASE_UNAVAILABLE: { status: 503, title: 'Database unavailable', fix: 'Retry later; the operator should check the database.' },
  KILN_DATABASE_TIMEOUT: {
    status: 503,
    title: 'Database statement timed out',
    fix: 'Narrow the query (filters, limit) or raise KILN_DB_STATEMENT_TIMEOUT_MS.',
  },
  KILN_SHUTTING_DOWN: { status: 503, title: 'Server is shutting down', fix: 'Retry; another instance will answer.' },
  KILN_OVERLOADED: {
    status: 503,
    title: 'Server overloaded',
    fix: 'Retry after the seconds in `Retry-After`; the operator should add instances or raise the shedding bounds (KILN_SHED_EVENT_LOOP_DELAY_MS, KILN_SHED_POOL_WAIT_MS, KILN_SHED_POOL_QUEUE).',
  },
  KILN_REDIS_UNAVAILABLE: { status: 503, title: 'Shared state unavailable', fix: 'Retry later; the operator should check Redis (REDIS_URL).' },
  KILN_AUTH_OIDC_UNAVAILABLE: { status: 503, title: 'Identity provider unavailable', fix: 'Retry later; the identity provider cannot be reached.' },
  KILN_SUBSCRIPTION_LIMIT: {
    status: 429,
    title: 'Too many subscriptions',
    fix: 'Close the subscriptions you no longer need (at most 20 per WebSocket connection, 10,000 per instance), and read events as fast as they come: a subscriber 1,000 events behind is closed.',
  },
} as const satisfies Record<string, { status: number; title: string; fix: string }>;

export type ErrorCode = keyof typeof ERRORS;

/** A code an application registered with registerErrorCode; the brand (types only) keeps typos of built-in codes a type error. */
export type CustomErrorCode = string & { readonly __registeredErrorCode: true };

interface CustomErrorEntry {
  readonly status: number;
  readonly title: string;
}

/**
 * One registry per process, even when the app's code imports `kilnjs` from another copy than the
 * server's (a build beside the sources, two installs): a code registered in one is known to both.
 */
const REGISTRY = Symbol.for('kilnjs.customErrorCodes');
const shared = globalThis as Record<symbol, Map<string, CustomErrorEntry> | undefined>;
const CUSTOM_ERRORS = shared[REGISTRY] ?? new Map<string, CustomErrorEntry>();
shared[REGISTRY] = CUSTOM_ERRORS;
const BRAND = Symbol.for('kilnjs.KilnError');
const CUSTOM_CODE = /^[A-Z][A-Z0-9]*(_[A-Z0-9]+)+$/;

/**
 * Registers an error code of the application (a hook or custom route refusing a request), answered in
 * problem+json like the built-in ones. Registering a code again replaces its entry (a reloaded module
 * registers its codes again); `KILN_` codes belong to Kiln.
 */
export function registerErrorCode<const C extends string>(code: C, entry: { status: number; title: string }): C & CustomErrorCode {
  if (!CUSTOM_CODE.test(code)) throw new Error(`error code "${code}": use UPPER_SNAKE_CASE with a prefix of your own, e.g. BLOG_ALREADY_PUBLISHED`);
  if (code.startsWith('KILN_') || Object.hasOwn(ERRORS, code)) {
    throw new Error(`error code "${code}": codes starting with KILN_ are Kiln's own; use a prefix of your own`);
  }
  if (!Number.isInteger(entry.status) || entry.status < 400 || entry.status > 599) {
    throw new Error(`error code "${code}": status ${entry.status} is not an error status; use 400 to 599`);
  }
  if (typeof entry.title !== 'string' || entry.title.trim() === '') throw new Error(`error code "${code}": give a short title, e.g. "Post already published"`);
  CUSTOM_ERRORS.set(code, Object.freeze({ status: entry.status, title: entry.title }));
  return code as C & CustomErrorCode;
}

/** Whether `code` is a built-in code or one registered with registerErrorCode. */
export function isErrorCode(code: string): boolean {
  return Object.hasOwn(ERRORS, code) || CUSTOM_ERRORS.has(code);
}

/** The status and title of a built-in or registered code; throws for an unknown one. */
export function errorEntry(code: string): CustomErrorEntry {
  const entry = (ERRORS as Record<string, CustomErrorEntry>)[code] ?? CUSTOM_ERRORS.get(code);
  if (!entry) throw new Error(`unknown error code "${code}": register it with registerErrorCode first`);
  return entry;
}

/** One entry of a validation problem list: where (JSON pointer or parameter), what rule, what to do. */
export interface FieldError {
  readonly path: string;
  readonly code: string;
  readonly message: string;
}

export interface KilnErrorOptions {
  detail?: string;
  errors?: readonly FieldError[];
  headers?: Record<string, string>;
  cause?: unknown;
}

/** The only error type that reaches a client; anything else becomes KILN_INTERNAL. */
export class KilnError extends Error {
  /** A KilnError of any copy of kilnjs is one: the app's hooks and routes may import another copy than the server's. */
  static override [Symbol.hasInstance](value: unknown): boolean {
    return typeof value === 'object' && value !== null && (value as Record<symbol, unknown>)[BRAND] === true;
  }

  readonly code: ErrorCode | CustomErrorCode;
  readonly status: number;
  readonly title: string;
  readonly detail: string;
  readonly errors: readonly FieldError[] | undefined;
  readonly headers: Record<string, string> | undefined;

  constructor(code: ErrorCode | CustomErrorCode, options: KilnErrorOptions = {}) {
    const entry = errorEntry(code);
    super(options.detail ?? entry.title, { cause: options.cause });
    Object.defineProperty(this, BRAND, { value: true });
    this.name = 'KilnError';
    this.code = code;
    this.status = entry.status;
    this.title = entry.title;
    this.detail = options.detail ?? entry.title;
    this.errors = options.errors;
    this.headers = options.headers;
  }
}

export function isKilnError(value: unknown): value is KilnError {
  return value instanceof KilnError;
}
