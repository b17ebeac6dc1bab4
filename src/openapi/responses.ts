/**
 * Error responses of the OpenAPI document, from the error registry. Each operation lists the codes
 * its route can really answer with; only codes some operation uses become components, so the
 * document has no dead entries.
 */
import { ERRORS, type ErrorCode } from '../core/errors.js';
import { FIXED_LIMITS } from '../core/limits.js';
import type { JsonSchema } from '../core/schemas.js';

const PROBLEM_MEDIA = 'application/problem+json';

/**
 * Answers the server can give on any route, before or instead of running it: the HTTP parser's 408 and
 * 431, the router's 414, and 405 for a method the path does not serve. Every operation declares them,
 * so a contract checker that provokes them finds them documented.
 */
export const PRE_ROUTE: readonly ErrorCode[] = ['KILN_METHOD_NOT_ALLOWED', 'KILN_REQUEST_TIMEOUT', 'KILN_URI_TOO_LONG', 'KILN_HEADERS_TOO_LARGE'];

/** Failures any API route can answer with once it is routed: content negotiation, the server, the database, shutdown, load shedding. */
export const ANY_ROUTE: readonly ErrorCode[] = [
  'KILN_NOT_ACCEPTABLE',
  'KILN_INTERNAL',
  'KILN_DATABASE_UNAVAILABLE',
  'KILN_DATABASE_TIMEOUT',
  'KILN_SHUTTING_DOWN',
  'KILN_OVERLOADED',
];

/** Failures of a body: JSON parsing, media type and size, then validation against the schema. */
export const BODY: readonly ErrorCode[] = [
  'KILN_BODY_MALFORMED',
  'KILN_BODY_MISSING',
  'KILN_VALIDATION_FAILED',
  'KILN_BODY_TOO_LARGE',
  'KILN_UNSUPPORTED_MEDIA_TYPE',
];

export const HEADERS = {
  // A quoted SHA-1 in base64url is 29 characters (src/rest/etag.ts); the bound leaves room for a longer hash.
  ETag: { description: 'Version of the representation; send it back in If-None-Match or If-Match.', schema: { type: 'string', maxLength: 64 } },
  XRequestId: {
    description: `The request id: the \`instance\` of a problem, and the key to the server log line. A caller's own X-Request-Id (1 to ${FIXED_LIMITS.requestIdLength} of \`A-Za-z0-9._:-\`) is kept.`,
    schema: { type: 'string', maxLength: FIXED_LIMITS.requestIdLength },
  },
  IdempotentReplayed: {
    description: '`true` when this response is the stored first response to the same Idempotency-Key.',
    schema: { type: 'string', enum: ['true'] },
  },
  Allow: {
    description: 'The methods the path serves, comma-separated.',
    // The longest list of methods (`DELETE, GET, HEAD, OPTIONS, PATCH, POST, PUT`) is 44 characters.
    schema: { type: 'string', maxLength: 64, pattern: '^[A-Z]+(, [A-Z]+)*$' },
  },
} as const;

export const header = (name: keyof typeof HEADERS) => ({ $ref: `#/components/headers/${name}` });

/**
 * Headers a code's response carries besides X-Request-Id. WWW-Authenticate and Retry-After are written
 * in place rather than as components, so a document without authentication has no unused component.
 */
const CODE_HEADERS: Partial<Record<ErrorCode, Record<string, JsonSchema>>> = {
  KILN_METHOD_NOT_ALLOWED: { Allow: header('Allow') },
  KILN_UNAUTHENTICATED: {
    'WWW-Authenticate': {
      description:
        'The scheme to authenticate with, and why the credential sent was refused: `Bearer realm="kiln"`, with `error="invalid_token"` for a bad token.',
      schema: { type: 'string', maxLength: 200 },
    },
  },
  KILN_RATE_LIMITED: {
    'Retry-After': {
      description: 'Seconds to wait before trying again.',
      schema: { type: 'integer', format: 'int32', minimum: 1, maximum: 86400 },
    },
  },
  KILN_OVERLOADED: {
    'Retry-After': {
      description: 'Seconds to wait before trying again.',
      schema: { type: 'integer', format: 'int32', minimum: 1, maximum: 86400 },
    },
  },
  KILN_SUBSCRIPTION_LIMIT: {
    'Retry-After': {
      description: 'Seconds to wait before subscribing again.',
      schema: { type: 'integer', format: 'int32', minimum: 1, maximum: 86400 },
    },
  },
};

function headersOf(codes: readonly ErrorCode[]): Record<string, JsonSchema> {
  return Object.assign({ 'X-Request-Id': header('XRequestId') }, ...codes.map((c) => CODE_HEADERS[c] ?? {}));
}

function example(code: ErrorCode, typeBase: string): JsonSchema {
  return {
    type: `${typeBase}${code}`,
    title: ERRORS[code].title,
    status: ERRORS[code].status,
    detail: ERRORS[code].title,
    code,
    instance: 'b3f1c2d4-1e2f-4a5b-9c8d-7e6f5a4b3c2d',
  };
}

export class ErrorResponses {
  readonly #used = new Set<ErrorCode>();
  readonly #typeBase: string;

  /** `typeBase`: KILN_PROBLEM_TYPE_BASE, the start of the `type` of each example. */
  constructor(typeBase: string) {
    this.#typeBase = typeBase;
  }

  /**
   * The responses of an operation that fails with `codes` (plus `always`, by default ANY_ROUTE, and
   * PRE_ROUTE in every case), by status. OpenAPI allows one response per status: a status shared by
   * several codes lists them, with one example each.
   */
  for(codes: readonly ErrorCode[], always: readonly ErrorCode[] = ANY_ROUTE): Record<string, JsonSchema> {
    const byStatus = new Map<number, ErrorCode[]>();
    for (const code of new Set([...codes, ...always, ...PRE_ROUTE])) {
      const status = ERRORS[code].status;
      byStatus.set(status, [...(byStatus.get(status) ?? []), code]);
    }
    const out: Record<string, JsonSchema> = {};
    for (const [status, list] of [...byStatus].sort(([a], [b]) => a - b)) {
      const [only] = list;
      if (list.length === 1 && only) {
        this.#used.add(only);
        out[String(status)] = { $ref: `#/components/responses/${only}` };
        continue;
      }
      out[String(status)] = {
        description: list.map((c) => `\`${c}\`: ${ERRORS[c].title}.`).join(' '),
        headers: headersOf(list),
        content: {
          [PROBLEM_MEDIA]: {
            schema: { $ref: '#/components/schemas/Problem' },
            examples: Object.fromEntries(list.map((c) => [c, { summary: ERRORS[c].title, value: example(c, this.#typeBase) }])),
          },
        },
      };
    }
    return out;
  }

  /** `components.responses`: one per code some operation answers with alone on its status. */
  components(): Record<string, JsonSchema> {
    const codes = (Object.keys(ERRORS) as ErrorCode[]).filter((c) => this.#used.has(c));
    return Object.fromEntries(
      codes.map((code) => [
        code,
        {
          description: `${ERRORS[code].title}. ${ERRORS[code].fix}`,
          headers: headersOf([code]),
          content: { [PROBLEM_MEDIA]: { schema: { $ref: '#/components/schemas/Problem' }, example: example(code, this.#typeBase) } },
        },
      ]),
    );
  }
}

export function problemSchema(typeBase: string): JsonSchema {
  const codes = Object.keys(ERRORS) as ErrorCode[];
  const statuses = codes.map((c) => ERRORS[c].status);
  const longest = (values: readonly string[]) => Math.max(...values.map((v) => v.length));
  const text = (description?: string) => ({ type: 'string', maxLength: FIXED_LIMITS.problemTextLength, ...(description ? { description } : {}) });
  return {
    type: 'object',
    description: 'RFC 9457 problem details, the body of every error response.',
    properties: {
      type: {
        type: 'string',
        format: 'uri',
        maxLength: typeBase.length + longest(codes),
        description: `\`${typeBase}\` followed by the code.`,
      },
      title: { type: 'string', maxLength: longest(codes.map((c) => ERRORS[c].title)), description: 'The title registered for the code.' },
      status: { type: 'integer', format: 'int32', minimum: Math.min(...statuses), maximum: Math.max(...statuses), description: 'The HTTP status.' },
      detail: text(`What went wrong in this request (at most ${FIXED_LIMITS.problemTextLength} characters).`),
      code: { type: 'string', enum: codes, description: 'Stable error code; see docs/reference/errors.md.' },
      instance: { type: 'string', maxLength: FIXED_LIMITS.requestIdLength, description: 'The request id (also in X-Request-Id).' },
      errors: {
        type: 'array',
        maxItems: FIXED_LIMITS.problemErrors,
        description: `Each problem found, for validation and query errors: the first ${FIXED_LIMITS.problemErrors} at most.`,
        items: {
          type: 'object',
          properties: {
            path: text('JSON pointer into the body (`/title`, `/3/title`), or the query parameter.'),
            code: text('The rule that failed (`required`, `maxLength`, `unknown`, …).'),
            message: text(),
          },
          required: ['path', 'code', 'message'],
          additionalProperties: false,
        },
      },
    },
    required: ['type', 'title', 'status', 'detail', 'code', 'instance'],
    additionalProperties: false,
  };
}
